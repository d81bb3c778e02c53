import {
  type CallContext,
  type CallOptions,
  type ChatCompletion,
  type ChatCompletionRequest,
  FlowgateError,
  type Next,
  type Plugin,
  type Reply,
  responseReply,
} from '@flowgate/core';
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { CacheStoreError, CacheStoreUnavailableError, type StoreOperation } from './errors.js';
import { StoreGuard } from './guard.js';
import { KeyBuilder, tagPattern } from './key.js';
import { type CacheOptions, type Config, resolveOptions, validateCallOptions } from './options.js';
import { type Decision, Policy } from './policy.js';
import { type Flight, SingleFlight } from './single-flight.js';
import { CacheCounters } from './stats.js';
import { assertPattern } from './stores/pattern.js';
import { replayStream, storable, tapStream } from './stream.js';
import {
  ATTR_CACHE_AGE_MS,
  ATTR_CACHE_HIT,
  ATTR_CACHE_KIND,
  ATTR_CACHE_REASON,
  ATTR_CACHE_RESULT,
  ATTR_CACHE_STORE,
  CacheTelemetry,
} from './telemetry.js';
import { TextMemo } from './text-memo.js';
import type {
  CacheCallView,
  CacheEntry,
  CacheMeta,
  CacheResult,
  CacheSkipReason,
  CacheStats,
  CacheStore,
} from './types.js';

/** Tags to invalidate by: `undefined` matches any value; a `null` tenant/user/prompt tag matches calls without one. */
export interface CacheTags {
  tenant?: string | null;
  user?: string | null;
  model?: string;
  promptTag?: string | null;
}

/** The plugin object `cache()` returns: install it in a gateway, and manage the cache through it. */
export interface CachePlugin extends Plugin {
  readonly store: CacheStore;
  stats(): CacheStats;
  /** The key a call would use, or undefined when the policy would not cache it. */
  keyFor(request: ChatCompletionRequest, options?: CallOptions): string | undefined;
  /** Deletes one entry; resolves whether it existed. Rejects with `CacheStoreError` if the store fails. */
  invalidate(key: string): Promise<boolean>;
  /** Deletes the entries whose key matches a glob (`*`, `?`); resolves with how many. */
  invalidateMatching(pattern: string): Promise<number>;
  /** Deletes the entries of a tenant, user, model and/or prompt tag; resolves with how many. */
  invalidateTags(tags: CacheTags): Promise<number>;
  /** Deletes every entry of this cache's store. */
  clear(): Promise<void>;
}

function errorCode(err: unknown): string {
  if (err instanceof FlowgateError) return err.code;
  if (err instanceof Error) return err.name;
  return 'unknown';
}

/** Stored values come back from JSON: check the shape before serving one. */
function isEntry(value: unknown): value is CacheEntry {
  const e = value as CacheEntry | undefined;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.storedAt === 'number' &&
    typeof e.response === 'object' &&
    e.response !== null &&
    Array.isArray(e.response.choices)
  );
}

const DONE: Promise<void> = Promise.resolve();

/** Whether an attempt of the call succeeded, i.e. a provider produced its answer. */
function answeredUpstream(ctx: CallContext): boolean {
  const attempts = ctx.meta.attempts;
  for (let i = 0; i < attempts.length; i++) if (attempts[i]!.outcome === 'ok') return true;
  return false;
}

/** State shared by every gateway the plugin is installed in. */
class CacheState {
  readonly store: CacheStore;
  readonly policy: Policy;
  readonly keys: KeyBuilder;
  readonly flights: SingleFlight | undefined;
  readonly guard: StoreGuard;
  readonly counters = new CacheCounters();
  readonly skipMeta: Record<string, CacheMeta> = {};

  constructor(readonly config: Config) {
    this.store = config.store;
    const memo = new TextMemo();
    this.policy = new Policy(config, memo);
    this.keys = new KeyBuilder(config, memo);
    this.flights = config.singleFlight ? new SingleFlight(config.maxWaitMs) : undefined;
    this.guard = new StoreGuard(config.store, config.storeTimeoutMs, config.breaker);
  }

  /** One frozen meta object per skip reason: skips allocate nothing. */
  skipped(reason: CacheSkipReason): CacheMeta {
    let m = this.skipMeta[reason];
    if (m === undefined) {
      m = Object.freeze({ hit: false, result: 'skip', store: this.store.name, reason });
      this.skipMeta[reason] = m;
    }
    return m;
  }
}

/** The call middleware, one per gateway (its instruments come from that gateway's meter). */
class CacheMiddleware {
  constructor(
    private readonly s: CacheState,
    private readonly tel: CacheTelemetry,
    private readonly tracer: Tracer,
  ) {}

  /**
   * Synchronous up to the store lookup: a skip hands back `next()` itself, and a cacheable call goes
   * on in one async function (`lookUpThenCall`), so that a miss pays for as few promises as it can.
   */
  readonly handle = (ctx: CallContext, next: Next): Promise<Reply> => {
    const s = this.s;
    const o = ctx.options.cache;
    if (o !== undefined) validateCallOptions(o);
    const d = s.policy.decide(ctx);
    if (!d.cache) return this.skip(ctx, d.reason!, next);
    const now = s.config.clock();
    const key = s.keys.build(ctx, d, now);
    if (o?.refresh === true) return this.miss(ctx, next, key, d, undefined, undefined);

    let flight: Flight | undefined;
    let written: Promise<void> | undefined;
    if (s.flights !== undefined) {
      const current = s.flights.join(key);
      if (current === undefined) flight = s.flights.lead(key);
      else if (!current.settled) return this.follow(ctx, next, key, d, current);
      // Answered a moment ago and being stored: read it once written, as any hit.
      else written = current.written;
    }
    return this.lookUpThenCall(ctx, next, key, d, flight, written);
  };

  /** Looks the key up; serves a hit, else calls upstream. */
  private async lookUpThenCall(
    ctx: CallContext,
    next: Next,
    key: string,
    d: Decision,
    flight: Flight | undefined,
    written: Promise<void> | undefined,
  ): Promise<Reply> {
    const s = this.s;
    const tel = this.tel;
    if (written) await written;
    const span = this.lookupSpan(ctx);
    const t0 = tel.on ? performance.now() : 0;
    let found: CacheEntry | undefined;
    let storeError: string | undefined;
    try {
      const value = await s.guard.get(key);
      found = value !== undefined && isEntry(value) ? value : undefined;
      this.looked(span, t0, found !== undefined);
    } catch (err) {
      storeError = this.lookupFailed(span, err);
    }
    if (found !== undefined) {
      if (flight) {
        // Followers that joined during the lookup copy from a snapshot of their own (the caller
        // owns `found`); released at once, so nobody joins later.
        s.flights!.settle(flight, flight.waiters > 0 ? structuredClone(found) : undefined);
        s.flights!.release(key, flight);
      }
      return this.serve(ctx, key, found, 'hit', false);
    }
    return this.miss(ctx, next, key, d, flight, storeError);
  }

  private skip(ctx: CallContext, reason: CacheSkipReason, next: Next): Promise<Reply> {
    this.s.counters.skips++;
    this.tel.request('skip', reason);
    ctx.meta.cache = this.s.skipped(reason);
    if (ctx.span.isRecording()) {
      ctx.span.setAttributes({ [ATTR_CACHE_HIT]: false, [ATTR_CACHE_RESULT]: 'skip', [ATTR_CACHE_REASON]: reason });
    }
    return next();
  }

  private lookupSpan(ctx: CallContext): Span | undefined {
    if (!ctx.span.isRecording()) return undefined;
    return this.tracer.startSpan(
      'cache lookup',
      { kind: SpanKind.INTERNAL, attributes: { [ATTR_CACHE_STORE]: this.s.store.name } },
      trace.setSpan(context.active(), ctx.span),
    );
  }

  /** Records a lookup that reached the store. */
  private looked(span: Span | undefined, t0: number, hit: boolean): void {
    const result: CacheResult = hit ? 'hit' : 'miss';
    if (this.tel.on) this.tel.lookup((performance.now() - t0) / 1000, result);
    if (span) {
      span.setAttribute(ATTR_CACHE_RESULT, result);
      span.end();
    }
  }

  /** Records a failed lookup (the call goes on as a miss); returns its error code. */
  private lookupFailed(span: Span | undefined, err: unknown): string {
    this.failed('get', err);
    const code = errorCode(err);
    if (span) {
      span.setAttributes({ [ATTR_CACHE_RESULT]: 'miss', 'error.type': code });
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
    }
    return code;
  }

  /** Counts a failed store operation (a refusal by the open circuit is not a new failure). */
  private failed(op: StoreOperation, err: unknown): void {
    if (err instanceof CacheStoreUnavailableError) return;
    this.s.counters.errors++;
    this.tel.error(op, errorCode(err));
  }

  private serve(ctx: CallContext, key: string, entry: CacheEntry, result: 'hit' | 'coalesced', copy: boolean): Reply {
    const { s, tel } = this;
    // A flight's entry is shared by every caller that joined it: give each its own copy.
    const response: ChatCompletion = copy ? structuredClone(entry.response) : entry.response;
    if (result === 'hit') s.counters.hits++;
    else s.counters.coalesced++;
    tel.request(result);
    const usage = response.usage;
    if (usage) {
      s.counters.tokensIn += usage.prompt_tokens ?? 0;
      s.counters.tokensOut += usage.completion_tokens ?? 0;
      tel.saved(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0);
    }
    const ageMs = Math.max(0, s.config.clock() - entry.storedAt);
    const meta: CacheMeta = { hit: true, result, store: s.store.name, key, ageMs, ttlMs: entry.ttlMs };
    if (entry.kind !== undefined) meta.kind = entry.kind;
    ctx.meta.cache = meta;
    if (ctx.span.isRecording()) {
      ctx.span.setAttributes({
        [ATTR_CACHE_HIT]: true,
        [ATTR_CACHE_RESULT]: result,
        [ATTR_CACHE_AGE_MS]: ageMs,
        [ATTR_CACHE_KIND]: entry.kind ?? 'default',
      });
    }
    return ctx.streaming ? replayStream(response) : responseReply(response);
  }

  /** A single-flight follower: waits for the leader's answer, else goes upstream on its own. */
  private async follow(ctx: CallContext, next: Next, key: string, d: Decision, flight: Flight): Promise<Reply> {
    const span = this.lookupSpan(ctx);
    const entry = await this.s.flights!.wait(key, flight, ctx.signal, ctx.cancellable);
    if (span) {
      span.setAttribute(ATTR_CACHE_RESULT, entry ? 'coalesced' : 'miss');
      span.end();
    }
    if (entry !== undefined) return this.serve(ctx, key, entry, 'coalesced', true);
    return this.miss(ctx, next, key, d, undefined, undefined);
  }

  /** Goes upstream: after a lookup missed, or without one (a refresh, or a follower whose leader gave up). */
  private async miss(
    ctx: CallContext,
    next: Next,
    key: string,
    d: Decision,
    flight: Flight | undefined,
    storeError: string | undefined,
  ): Promise<Reply> {
    this.missed(ctx, key, d, storeError);
    let reply: Reply;
    try {
      reply = await next();
    } catch (err) {
      if (flight) this.abandon(key, flight);
      throw err;
    }
    return this.answered(ctx, key, d, flight, reply);
  }

  /** Counts a miss and describes it on the call. */
  private missed(ctx: CallContext, key: string, d: Decision, storeError: string | undefined): void {
    const s = this.s;
    s.counters.misses++;
    this.tel.request('miss');
    const meta: CacheMeta = { hit: false, result: 'miss', store: s.store.name, key, ttlMs: d.ttlMs, kind: d.kind };
    if (storeError !== undefined) meta.storeError = storeError;
    ctx.meta.cache = meta;
    if (ctx.span.isRecording()) {
      ctx.span.setAttributes({ [ATTR_CACHE_HIT]: false, [ATTR_CACHE_RESULT]: 'miss', [ATTR_CACHE_KIND]: d.kind });
    }
  }

  /** The upstream answer of a miss: stored once complete (a stream: once read to its end). */
  private answered(ctx: CallContext, key: string, d: Decision, flight: Flight | undefined, reply: Reply): Reply {
    // An answer no provider produced (the semantic cache's hit, say) is already stored under its own key.
    if (reply.type === 'response') {
      this.completed(key, d, reply.response, flight, answeredUpstream(ctx));
      return reply;
    }
    return tapStream(
      reply,
      (response) => this.completed(key, d, response, flight, answeredUpstream(ctx)),
      () => {
        if (flight) this.abandon(key, flight);
      },
    );
  }

  /** The leader got no storable answer: its followers proceed on their own. */
  private abandon(key: string, flight: Flight): void {
    this.s.flights!.settle(flight, undefined);
    this.s.flights!.release(key, flight);
  }

  /** A whole answer arrived: store it if it may be (and came from upstream), and hand it to the followers. */
  private completed(
    key: string,
    d: Decision,
    response: ChatCompletion,
    flight: Flight | undefined,
    fromUpstream: boolean,
  ): void {
    const s = this.s;
    if (!storable(response)) {
      if (flight) this.abandon(key, flight);
      return;
    }
    const entry: CacheEntry = { response, storedAt: s.config.clock(), ttlMs: d.ttlMs, kind: d.kind };
    if (!fromUpstream) {
      if (flight) {
        s.flights!.settle(flight, flight.waiters > 0 ? structuredClone(entry) : undefined, DONE);
        DONE.then(() => s.flights!.release(key, flight));
      }
      return;
    }
    const writing = this.write(key, entry, flight);
    // Waiting followers get a snapshot (the leader's caller owns `response` and may change it);
    // with none waiting, no copy is made.
    if (flight) s.flights!.settle(flight, flight.waiters > 0 ? structuredClone(entry) : undefined, writing);
  }

  /**
   * Writes an entry in the background, then releases the flight (newcomers that joined it meanwhile
   * wait for this promise, then read the entry). Never rejects: a failure is counted.
   */
  private async write(key: string, entry: CacheEntry, flight: Flight | undefined): Promise<void> {
    const s = this.s;
    try {
      // The store serializes the entry synchronously, inside this call.
      if (await s.guard.set(key, entry, entry.ttlMs)) {
        s.counters.stores++;
        this.tel.stored();
      }
    } catch (err) {
      this.failed('set', err);
    }
    if (flight) s.flights!.release(key, flight);
  }
}

/**
 * The response cache, a call middleware: a hit answers at once (replayed as chunks for a streaming
 * caller); a miss goes upstream and its answer is stored once complete. Install it before plugins
 * whose work a hit should skip (first registered = outermost).
 *
 * @example
 * const responses = cache({ store: redisStore(), keying: 'context' });
 * const gateway = createGateway({ providers: [openai()], plugins: [responses] });
 * const res = await gateway.complete(req, { metadata: { tenant: 'acme' } });
 * res.flowgate.cache; // { hit: false, result: 'miss', key: 'v1:t.acme:-:gpt-4o-mini:-:…', ... }
 */
export function cache(options: CacheOptions = {}): CachePlugin {
  const s = new CacheState(resolveOptions(options));
  const { store, config } = s;
  let installed = 0;

  const admin = async <T>(op: StoreOperation, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof FlowgateError && !(err instanceof CacheStoreError)) throw err; // bad input
      s.counters.errors++;
      throw err instanceof CacheStoreError
        ? err
        : new CacheStoreError(store.name, op, err instanceof Error ? err.message : String(err), err);
    }
  };

  return {
    name: config.name,
    store,
    setup(host) {
      const tel = new CacheTelemetry(host.meter, store);
      const mw = new CacheMiddleware(s, tel, host.tracer);
      host.useCall(mw.handle);
      installed++;
      host.onClose(async () => {
        tel.dispose();
        installed--;
        if (installed === 0 && !config.keepStoreOpen) await store.close();
      });
      // Start-up work the gateway's first calls wait for: a remote store's first connection.
      if (!store.local && typeof store.ready === 'function') return store.ready();
    },
    stats: () => s.counters.snapshot(store.usage?.()),
    keyFor(request, options) {
      const view: CacheCallView = { request, metadata: options?.metadata ?? {}, options: options ?? {} };
      if (options?.cache !== undefined) validateCallOptions(options.cache);
      const d = s.policy.decide(view);
      return d.cache ? s.keys.build(view, d, config.clock()) : undefined;
    },
    invalidate: (key) => admin('delete', () => store.delete(key)),
    invalidateMatching: (pattern) =>
      admin('match', async () => {
        assertPattern(pattern);
        return store.deleteMatching(pattern);
      }),
    invalidateTags: (tags) => admin('match', () => store.deleteMatching(tagPattern(tags ?? {}))),
    clear: () => admin('clear', () => store.clear()),
  };
}
