import {
  type CallContext,
  ConfigError,
  FlowgateError,
  type Next,
  type Plugin,
  type PluginHost,
  type Reply,
} from '@flowgate/core';
import type { CacheEntry, CacheMeta, CachePlugin, CacheStore } from '@flowgate/plugin-cache';
import { context, diag, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { answerReply, isEntry, onStreamComplete, storable } from './answers.js';
import { decide, dot, normalize } from './decide.js';
import { EmbeddingError } from './errors.js';
import { GUARD_NAMES, type GuardName } from './guards.js';
import { type Config, resolveOptions, type SemanticCacheOptions, validateCallOptions } from './options.js';
import { type LoadResult, loadIndex, saveIndex } from './persist.js';
import { partitionOf, questionOf } from './question.js';
import { type Candidate, type Removal, SemanticIndex } from './semantic-index.js';
import {
  ATTR_SEMANTIC_CANDIDATES,
  ATTR_SEMANTIC_HIT,
  ATTR_SEMANTIC_REASON,
  ATTR_SEMANTIC_RESULT,
  ATTR_SEMANTIC_SIMILARITY,
  SemanticTelemetry,
} from './telemetry.js';
import { analyzeCached } from './text/memo.js';
import type { EmbedContext, Embedder, SemanticCacheMeta, SemanticResult, SemanticSkipReason } from './types.js';

/** `semanticCache.stats()`: counters since the plugin was created. */
export interface SemanticCacheStats {
  /** Calls answered with the cached answer of a similar question. */
  hits: number;
  /** Calls looked up with no similar enough question. */
  misses: number;
  /** Calls whose similar question was refused by a guard. */
  guardRejected: number;
  /** Calls the semantic layer did not look up (see `SemanticSkipReason`). */
  skips: number;
  /** hits / (hits + misses + guardRejected); 0 before any lookup. */
  hitRate: number;
  /** Tokens the hits would have cost (from the cached usage). */
  tokensSaved: { input: number; output: number };
  /** Embedder failures, failed store reads, index file failures. */
  errors: number;
  /** Questions indexed. */
  indexed: number;
  /** Questions in the index now, and in how many partitions. */
  entries: number;
  partitions: number;
  /** Entries that left the index, by why (`dead`: their answer had left the store). */
  removed: Record<Removal, number>;
  /** How many candidates each guard refused. */
  guards: Record<GuardName, number>;
}

/** What `compare()` says about two questions. */
export interface Comparison {
  similarity: number;
  /** Whether a cached `a` would answer `b` (threshold and guards). */
  hit: boolean;
  /** When not a hit: `below-threshold`, or the guard that refused it. */
  reason?: 'below-threshold' | GuardName;
}

/** The plugin object `semanticCache()` returns: install it after the exact cache, and manage the index through it. */
export interface SemanticCachePlugin extends Plugin {
  readonly embedder: Embedder;
  readonly threshold: number;
  stats(): SemanticCacheStats;
  /** Writes the index to the `persist` file; resolves with the number of entries written. */
  save(): Promise<number>;
  /** Reads the `persist` file into the index; resolves with what was loaded (undefined: no file). */
  load(): Promise<LoadResult | undefined>;
  /** Empties the index (the answers stay in the exact cache's store). */
  clear(): void;
  /** Similarity of two questions and whether a cached `a` would answer `b`: for tuning and demos. */
  compare(a: string, b: string): Promise<Comparison>;
}

/** An index entry whose answer is missing this soon after it was indexed may still be on its way to a remote store. */
const DEAD_POINTER_GRACE_MS = 10_000;

class LookupFailure {
  constructor(readonly code: string) {}
}

function errorCode(err: unknown): string {
  if (err instanceof FlowgateError) return err.code;
  if (err instanceof Error) return err.name;
  return 'unknown';
}

interface Lookup {
  hit?: { candidate: Candidate; entry: CacheEntry };
  best: number | undefined;
  rejected: GuardName | undefined;
  stale: boolean;
}

/** State shared by every gateway the plugin is installed in. */
class SemanticState {
  readonly index: SemanticIndex;
  readonly counters = {
    hits: 0,
    misses: 0,
    guardRejected: 0,
    skips: 0,
    errors: 0,
    indexed: 0,
    tokensIn: 0,
    tokensOut: 0,
  };
  readonly guardCounts = Object.fromEntries(GUARD_NAMES.map((g) => [g, 0])) as Record<GuardName, number>;
  readonly skipMeta = new Map<SemanticSkipReason, SemanticCacheMeta>();
  warnedOrder = false;
  installed = 0;
  timers: NodeJS.Timeout[] = [];
  loading: Promise<void> | undefined;

  constructor(readonly config: Config) {
    this.index = new SemanticIndex(config.embedder.dimensions, config.index, config.maxEntries);
  }

  skipped(reason: SemanticSkipReason): SemanticCacheMeta {
    let m = this.skipMeta.get(reason);
    if (m === undefined) {
      m = Object.freeze({ hit: false, result: 'skip', reason });
      this.skipMeta.set(reason, m);
    }
    return m;
  }

  /** Embeds one question: validated, unit length, and bounded in time unless the embedder is local. */
  async embed(text: string, ctx: EmbedContext | undefined): Promise<Float32Array> {
    const { embedder, embedTimeoutMs } = this.config;
    let vectors: Float32Array[];
    if (this.config.localEmbedder) vectors = await embedder.embed([text]);
    else {
      const timeout = new AbortController();
      const timer = setTimeout(
        () =>
          timeout.abort(new EmbeddingError(embedder.id, `timed out after ${embedTimeoutMs} ms`, { retryable: true })),
        embedTimeoutMs,
      );
      const signal = ctx?.signal ? AbortSignal.any([ctx.signal, timeout.signal]) : timeout.signal;
      // Raced, so that an embedder that ignores the signal cannot hold the call.
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(signal.reason);
        if (signal.aborted) fail();
        else signal.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => {});
      try {
        vectors = await Promise.race([embedder.embed([text], { ...ctx, signal }), aborted]);
      } finally {
        clearTimeout(timer);
      }
    }
    const v = Array.isArray(vectors) ? vectors[0] : undefined;
    if (v === undefined || v.length !== embedder.dimensions) {
      throw new EmbeddingError(embedder.id, `returned ${v?.length ?? 'no'} values, expected ${embedder.dimensions}`);
    }
    const out = Float32Array.from(v);
    for (const x of out) if (!Number.isFinite(x)) throw new EmbeddingError(embedder.id, 'returned a non-finite value');
    return normalize(out);
  }
}

/** The call middleware, one per gateway (its instruments come from that gateway's meter). */
class SemanticMiddleware {
  constructor(
    private readonly s: SemanticState,
    private readonly store: CacheStore,
    private readonly tel: SemanticTelemetry,
    private readonly tracer: Tracer,
  ) {}

  readonly handle = async (ctx: CallContext, next: Next): Promise<Reply> => {
    const { s } = this;
    const c = s.config;
    const o = ctx.options.semanticCache;
    if (o !== undefined) validateCallOptions(o);
    if (o === false) return this.skip(ctx, next, 'disabled');
    const exact: CacheMeta | undefined = ctx.meta.cache;
    if (exact === undefined) {
      if (!s.warnedOrder) {
        s.warnedOrder = true;
        diag.warn(
          `flowgate: plugin "${c.name}" found no exact cache result on the call: install the cache plugin "${c.cache}" before it`,
        );
      }
      return this.skip(ctx, next, 'no-exact-cache');
    }
    if (exact.result === 'skip')
      return this.skip(ctx, next, exact.reason === 'mode-never' ? 'disabled' : 'not-cacheable');
    const key = exact.key;
    // Only a miss reaches here (a hit never calls next); the key names where the answer will be stored.
    if (exact.result !== 'miss' || key === undefined) return next();
    const q = questionOf(ctx.request);
    if (q === undefined) return this.skip(ctx, next, 'not-a-question');
    if (q.userTurns > c.maxTurns) return this.skip(ctx, next, 'too-many-turns');
    if (q.text.length > c.maxQuestionChars) return this.skip(ctx, next, 'too-long');
    for (const re of c.timeReferences) if (re.test(q.text)) return this.skip(ctx, next, 'time-reference');

    const partition = partitionOf(ctx.request, ctx.metadata, key);
    const ttlMs = exact.ttlMs ?? 4 * 3_600_000;
    let vector: Float32Array;
    const t0 = this.tel.on ? performance.now() : 0;
    try {
      vector = await s.embed(q.text, {
        signal: ctx.cancellable ? ctx.signal : undefined,
        dispatcher: ctx.dispatcher,
        span: ctx.span,
      });
    } catch (err) {
      this.failed('embed', err);
      return this.skip(ctx, next, 'embed-error');
    }
    if (this.tel.on) this.tel.embedded((performance.now() - t0) / 1000);

    if (ctx.options.cache?.refresh === true) {
      // A forced refresh: no lookup, but the fresh answer is indexed.
      s.counters.skips++;
      this.tel.request('skip', 'refresh');
      this.record(ctx, s.skipped('refresh'));
      return this.indexAnswer(await next(), partition, key, q.text, vector, ttlMs);
    }

    const threshold = typeof o === 'object' && o.threshold !== undefined ? o.threshold : c.threshold;
    const found = await this.lookup(ctx, partition, vector, q.text, threshold);
    if (found.hit) return this.serve(ctx, found.hit.candidate, found.hit.entry);

    const meta: SemanticCacheMeta =
      found.rejected !== undefined
        ? { hit: false, result: 'guard_rejected', reason: found.rejected }
        : {
            hit: false,
            result: 'miss',
            reason: found.best === undefined ? 'empty' : found.stale ? 'stale' : 'below-threshold',
          };
    if (found.best !== undefined) meta.similarity = found.best;
    if (meta.result === 'guard_rejected') s.counters.guardRejected++;
    else s.counters.misses++;
    this.tel.request(meta.result, meta.reason);
    this.record(ctx, meta);
    return this.indexAnswer(await next(), partition, key, q.text, vector, ttlMs);
  };

  private skip(ctx: CallContext, next: Next, reason: SemanticSkipReason): Promise<Reply> {
    this.s.counters.skips++;
    this.tel.request('skip', reason);
    this.record(ctx, this.s.skipped(reason));
    return next();
  }

  private record(ctx: CallContext, meta: SemanticCacheMeta): void {
    ctx.meta.semanticCache = meta;
    if (!ctx.span.isRecording()) return;
    ctx.span.setAttribute(ATTR_SEMANTIC_HIT, meta.hit);
    ctx.span.setAttribute(ATTR_SEMANTIC_RESULT, meta.result);
    ctx.span.setAttribute(ATTR_SEMANTIC_REASON, meta.reason);
    if (meta.similarity !== undefined) ctx.span.setAttribute(ATTR_SEMANTIC_SIMILARITY, meta.similarity);
  }

  private failed(operation: 'embed' | 'get', err: unknown): void {
    this.s.counters.errors++;
    this.tel.error(operation, errorCode(err));
  }

  private lookupSpan(ctx: CallContext): Span | undefined {
    if (!ctx.span.isRecording()) return undefined;
    return this.tracer.startSpan(
      'semantic_cache lookup',
      { kind: SpanKind.INTERNAL },
      trace.setSpan(context.active(), ctx.span),
    );
  }

  /** The nearest questions of the partition, best first: the first above the threshold that every guard accepts and whose answer is still stored wins. */
  private async lookup(
    ctx: CallContext,
    partition: string,
    vector: Float32Array,
    question: string,
    threshold: number,
  ): Promise<Lookup> {
    const { s, tel } = this;
    const c = s.config;
    const span = this.lookupSpan(ctx);
    const t0 = tel.on ? performance.now() : 0;
    const now = c.clock();
    const candidates = s.index.search(partition, vector, c.candidates, now);
    const out: Lookup = { best: candidates[0]?.similarity, rejected: undefined, stale: false };
    const asked = analyzeCached(question);
    for (const cand of candidates) {
      if (cand.similarity < threshold) break;
      const verdict = decide(cand.similarity, threshold, asked, analyzeCached(cand.entry.question), c.guards);
      if (!verdict.hit) {
        if (verdict.reason !== 'below-threshold') {
          s.guardCounts[verdict.reason]++;
          out.rejected ??= verdict.reason;
        }
        continue;
      }
      const entry = await this.read(cand.entry.key);
      if (entry instanceof LookupFailure) break;
      if (entry === undefined) {
        // A dead pointer: the answer expired, was evicted or invalidated in the store.
        if (now - cand.entry.addedAt >= DEAD_POINTER_GRACE_MS) s.index.remove(cand.entry.id, 'dead');
        out.stale = true;
        continue;
      }
      s.index.touch(cand.entry.id);
      out.hit = { candidate: cand, entry };
      break;
    }
    const result: SemanticResult = out.hit ? 'hit' : out.rejected !== undefined ? 'guard_rejected' : 'miss';
    if (tel.on) tel.lookup((performance.now() - t0) / 1000, result);
    if (span) {
      span.setAttribute(ATTR_SEMANTIC_RESULT, result);
      span.setAttribute(ATTR_SEMANTIC_CANDIDATES, candidates.length);
      const sim = out.hit?.candidate.similarity ?? out.best;
      if (sim !== undefined) span.setAttribute(ATTR_SEMANTIC_SIMILARITY, sim);
      span.end();
    }
    return out;
  }

  /** Reads an answer from the exact cache's store; a failure or a slow remote read is counted and ends the lookup as a miss. */
  private async read(key: string): Promise<CacheEntry | undefined | LookupFailure> {
    const store = this.store;
    try {
      let p = store.get(key);
      if (!store.local) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`store read timed out after ${this.s.config.storeTimeoutMs} ms`)),
            this.s.config.storeTimeoutMs,
          );
        });
        p = Promise.race([p, timeout]).finally(() => clearTimeout(timer));
      }
      const value = await p;
      return value !== undefined && isEntry(value) ? value : undefined;
    } catch (err) {
      this.failed('get', err);
      return new LookupFailure(errorCode(err));
    }
  }

  private serve(ctx: CallContext, cand: Candidate, entry: CacheEntry): Reply {
    const { s, tel } = this;
    s.counters.hits++;
    tel.request('hit');
    tel.hit(cand.similarity);
    const usage = entry.response.usage;
    if (usage) {
      s.counters.tokensIn += usage.prompt_tokens ?? 0;
      s.counters.tokensOut += usage.completion_tokens ?? 0;
    }
    this.record(ctx, {
      hit: true,
      result: 'hit',
      similarity: cand.similarity,
      matchedKey: cand.entry.key,
      reason: 'similar',
    });
    return answerReply(entry.response, ctx.streaming);
  }

  /** Indexes the question once its answer is complete and storable (a stream: once read to the end). */
  private indexAnswer(
    reply: Reply,
    partition: string,
    key: string,
    question: string,
    vector: Float32Array,
    ttlMs: number,
  ): Reply {
    const add = (response: Parameters<typeof storable>[0]) => {
      if (!storable(response)) return;
      const now = this.s.config.clock();
      this.s.index.add(partition, key, question, vector, now, now + ttlMs);
      this.s.counters.indexed++;
    };
    if (reply.type === 'response') {
      add(reply.response);
      return reply;
    }
    return onStreamComplete(reply, add);
  }
}

/**
 * The semantic cache: a call middleware installed after the exact cache (`cache()`), whose store holds
 * the answers. An exact hit never reaches it. On an exact miss it embeds the last user question, looks
 * for the most similar questions of the same partition (model, tenant, user of a personalized call,
 * prompt tag, system prompt, earlier turns, sampling...), and serves the stored answer of the first one
 * above the threshold that every near-miss guard accepts. On a miss the call goes upstream; the exact
 * cache stores the answer under its key, and this plugin indexes the question's vector with that key.
 * Whatever the exact cache refuses to cache (personal information, time references, personalized calls,
 * `temperature > 0`) is never looked up either.
 *
 * @example
 * const gateway = createGateway({ providers: [openai()], plugins: [cache(), semanticCache()] });
 */
export function semanticCache(options: SemanticCacheOptions = {}): SemanticCachePlugin {
  const config = resolveOptions(options);
  const s = new SemanticState(config);
  const { embedder, persistPath } = config;
  let tel: SemanticTelemetry[] = [];

  const save = async (): Promise<number> => {
    if (persistPath === undefined) throw new ConfigError('semanticCache has no `persist` path');
    return saveIndex(persistPath, s.index, embedder.id, config.clock());
  };
  const load = async (): Promise<LoadResult | undefined> => {
    if (persistPath === undefined) throw new ConfigError('semanticCache has no `persist` path');
    return loadIndex(persistPath, s.index, embedder.id, config.clock());
  };
  /** Background persistence work: a failure is counted and logged, never thrown. */
  const quietly = (operation: 'save' | 'load', work: () => Promise<unknown>) =>
    work().then(
      () => {},
      (err: unknown) => {
        s.counters.errors++;
        for (const t of tel) t.error(operation, errorCode(err));
        diag.warn(`flowgate: semantic cache ${operation} failed`, err);
      },
    );

  return {
    name: config.name,
    dependsOn: [config.cache],
    embedder,
    threshold: config.threshold,
    setup(host: PluginHost) {
      const exact = host.getPlugin<CachePlugin>(config.cache);
      if (typeof exact?.store?.get !== 'function') {
        throw new ConfigError(
          `plugin "${config.name}" needs the exact cache plugin "${config.cache}" (cache()) installed before it`,
        );
      }
      embedder.bind?.(host);
      const t = new SemanticTelemetry(host.meter, embedder.id, () => s.index.size);
      tel.push(t);
      host.useCall(new SemanticMiddleware(s, exact.store, t, host.tracer).handle);
      s.installed++;
      if (s.installed === 1) {
        if (config.sweepIntervalMs > 0) {
          s.timers.push(setInterval(() => s.index.sweep(config.clock()), config.sweepIntervalMs).unref());
        }
        if (persistPath !== undefined && config.saveIntervalMs > 0) {
          s.timers.push(setInterval(() => void quietly('save', save), config.saveIntervalMs).unref());
        }
      }
      host.onClose(async () => {
        t.dispose();
        tel = tel.filter((x) => x !== t);
        s.installed--;
        if (s.installed > 0) return;
        for (const timer of s.timers.splice(0)) clearInterval(timer);
        if (persistPath !== undefined) {
          await s.loading;
          await quietly('save', save);
        }
      });
      // Start-up work the gateway's first calls wait for: the persisted index (once per plugin).
      if (persistPath !== undefined && s.loading === undefined) {
        s.loading = quietly('load', load);
        return s.loading;
      }
    },
    stats(): SemanticCacheStats {
      const k = s.counters;
      const looked = k.hits + k.misses + k.guardRejected;
      return {
        hits: k.hits,
        misses: k.misses,
        guardRejected: k.guardRejected,
        skips: k.skips,
        hitRate: looked === 0 ? 0 : k.hits / looked,
        tokensSaved: { input: k.tokensIn, output: k.tokensOut },
        errors: k.errors,
        indexed: k.indexed,
        entries: s.index.size,
        partitions: s.index.partitionCount,
        removed: { ...s.index.removed },
        guards: { ...s.guardCounts },
      };
    },
    save,
    load,
    clear: () => s.index.clear(),
    async compare(a: string, b: string): Promise<Comparison> {
      const [va, vb] = [await s.embed(a, undefined), await s.embed(b, undefined)];
      const similarity = dot(va, vb);
      const v = decide(similarity, config.threshold, analyzeCached(b), analyzeCached(a), config.guards);
      return v.hit ? { similarity, hit: true } : { similarity, hit: false, reason: v.reason };
    },
  };
}
