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

/** A failed lookup: the call goes on as a miss. */
class LookupFailure {
  constructor(readonly code: string) {}
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

  readonly handle = async (ctx: CallContext, next: Next): Promise<Reply> => {
    const s = this.s;
    const o = ctx.options.cache;
    if (o !== undefined) validateCallOptions(o);
    const d = s.policy.decide(ctx);
    if (!d.cache) return this.skip(ctx, d.reason!, next);
    const now = s.config.clock();
    const key = s.keys.build(ctx, d, now);
    const refresh = o?.refresh === true;

    let flight: Flight | undefined;
    if (s.flights !== undefined && !refresh) {
      const current = s.flights.join(key);
      if (current === undefined) flight = s.flights.lead(key);
      else if (!current.settled) return this.follow(ctx, next, key, d, current);
      // Answered a moment ago and being stored: read it once written, as any hit.
      else if (current.written) await current.written;
    }

    let storeError: string | undefined;
    if (!refresh) {
      const found = await this.lookup(ctx, key);
      if (found instanceof LookupFailure) storeError = found.code;
      else if (found !== undefined) {
        if (flight) {
          // Followers that joined during the lookup copy from a snapshot of their own (the caller
          // owns `found`); released at once, so nobody joins later.
          s.flights!.settle(flight, flight.waiters > 0 ? structuredClone(found) : undefined);
          s.flights!.release(key, flight);
        }
        return this.serve(ctx, key, found, 'hit', false);
      }
    }
    return this.miss(ctx, next, key, d, flight, storeError);
  };

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

  private async lookup(ctx: CallContext, key: string): Promise<CacheEntry | LookupFailure | undefined> {
    const { s, tel } = this;
    const span = this.lookupSpan(ctx);
    const t0 = tel.on ? performance.now() : 0;
    try {
      const value = await s.guard.run('get', () => s.store.get(key));
      const entry = value !== undefined && isEntry(value) ? value : undefined;
      const result: CacheResult = entry ? 'hit' : 'miss';
      if (tel.on) tel.lookup((performance.now() - t0) / 1000, result);
      if (span) {
        span.setAttribute(ATTR_CACHE_RESULT, result);
        span.end();
      }
      return entry;
    } catch (err) {
      this.failed('get', err);
      const code = errorCode(err);
      if (span) {
        span.setAttributes({ [ATTR_CACHE_RESULT]: 'miss', 'error.type': code });
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        span.end();
      }
      return new LookupFailure(code);
    }
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

  private async miss(
    ctx: CallContext,
    next: Next,
    key: string,
    d: Decision,
    flight: Flight | undefined,
    storeError: string | undefined,
  ): Promise<Reply> {
    const s = this.s;
    s.counters.misses++;
    this.tel.request('miss');
    const meta: CacheMeta = { hit: false, result: 'miss', store: s.store.name, key, ttlMs: d.ttlMs, kind: d.kind };
    if (storeError !== undefined) meta.storeError = storeError;
    ctx.meta.cache = meta;
    if (ctx.span.isRecording()) {
      ctx.span.setAttributes({ [ATTR_CACHE_HIT]: false, [ATTR_CACHE_RESULT]: 'miss', [ATTR_CACHE_KIND]: d.kind });
    }
    let reply: Reply;
    try {
      reply = await next();
    } catch (err) {
      if (flight) this.abandon(key, flight);
      throw err;
    }
    // An answer no provider produced (the semantic cache's hit, say) is already stored under its own key.
    const fromUpstream = () => ctx.meta.attempts.some((a) => a.outcome === 'ok');
    if (reply.type === 'response') {
      this.completed(key, d, reply.response, flight, fromUpstream());
      return reply;
    }
    return tapStream(
      reply,
      (response) => this.completed(key, d, response, flight, fromUpstream()),
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
    const writing = fromUpstream ? this.write(key, entry) : Promise.resolve();
    if (flight) {
      // Waiting followers get a snapshot (the leader's caller owns `response` and may change it);
      // with none waiting, no copy is made.
      s.flights!.settle(flight, flight.waiters > 0 ? structuredClone(entry) : undefined, writing);
      writing.then(() => s.flights!.release(key, flight));
    }
  }

  /** Writes an entry in the background; never rejects (a failure is counted). */
  private write(key: string, entry: CacheEntry): Promise<void> {
    const s = this.s;
    return s.guard
      .run('set', () => s.store.set(key, entry, entry.ttlMs))
      .then(
        (stored) => {
          if (stored) {
            s.counters.stores++;
            this.tel.stored();
          }
        },
        (err: unknown) => this.failed('set', err),
      );
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
