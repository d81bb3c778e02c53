import type { CallContext, ChatCompletion } from '@flowgate/core';

/**
 * `never`: no caching. `always`: cache every request (personalized ones per user). `smart`: cache
 * what is safe to share and skip the rest (personal information, time references, live-data tools,
 * personalized contexts, explicit `temperature > 0`).
 */
export type CacheMode = 'never' | 'always' | 'smart';

/**
 * How keys are made. `exact`: from the request alone (model, messages, tools, response format,
 * sampling). `context`: also from the call's context: the locale (`metadata.tags.locale`) and, for
 * time-sensitive questions, a time bucket such as `2026-11-28-morning`. The tenant (and the user of a
 * personalized request) is part of every key, in both modes.
 */
export type CacheKeying = 'exact' | 'context';

/** What the cache did for one call. */
export type CacheResult = 'hit' | 'coalesced' | 'miss' | 'skip';

/** Why the policy did not cache a call. */
export type CacheSkipReason =
  | 'mode-never'
  | 'non-deterministic'
  | 'personalized'
  | 'personalized-without-user'
  | 'personal-info'
  | 'time-reference'
  | 'live-tool';

/** Per-call overrides: `gateway.complete(req, { cache: { mode: 'never' } })`. */
export interface CacheCallOptions {
  /** Overrides the plugin's mode for this call. */
  mode?: CacheMode;
  /** TTL of the entry this call stores, overriding the TTL by kind. */
  ttlMs?: number;
  /**
   * Marks the request as personalized: its answer depends on who asks. Personalized requests are
   * skipped in `smart` mode (unless `cachePersonalized`) and otherwise keyed by `metadata.user`.
   * Default: `metadata.tags.personalized === 'true'`, or the plugin's `isPersonalized`.
   */
  personalized?: boolean;
  /** Skip the lookup, call upstream, and store the fresh answer (a forced refresh). */
  refresh?: boolean;
}

/** What the cache tells the caller, as `response.flowgate.cache` / `stream.meta.cache`. */
export interface CacheMeta {
  /** True when the answer did not come from upstream (`hit` or `coalesced`). */
  hit: boolean;
  result: CacheResult;
  /** The store's name (`memory`, `redis`, `sqlite`, `two-tier`, ...). */
  store: string;
  /** The entry's key (absent when skipped); pass it to `invalidate(key)`. */
  key?: string;
  /** Age of the cached answer, ms (hits). */
  ageMs?: number;
  /** TTL of the entry, ms (hits: as stored; misses: what will be stored). */
  ttlMs?: number;
  /** The request's kind for TTL purposes (`current`, `support`, `factual`, `default`, or a custom kind). */
  kind?: string;
  /** Why the call was not cached (skips). */
  reason?: CacheSkipReason;
  /** Set when the store failed during the lookup (the call went on as a miss): the error code. */
  storeError?: string;
}

declare module '@flowgate/core' {
  interface CallOptions {
    /** Response cache overrides for this call (`@flowgate/plugin-cache`). */
    cache?: CacheCallOptions;
  }
  interface CallMeta {
    /** What the response cache did for this call (`@flowgate/plugin-cache`). */
    cache?: CacheMeta;
  }
}

/** The parts of a call the policy and the key read (a `CallContext` is one). */
export type CacheCallView = Pick<CallContext, 'request' | 'metadata' | 'options'>;

/** One stored answer. */
export interface CacheEntry {
  /** The whole answer (for a stream: the assembled answer, usage included). */
  response: ChatCompletion;
  /** When it was stored, ms since epoch (the plugin's clock). */
  storedAt: number;
  ttlMs: number;
  kind?: string;
}

/** What a store holds right now, where it can tell. */
export interface StoreUsage {
  entries: number;
  bytes: number;
  /** Entries dropped to stay within bounds (LRU), since the store was created. */
  evictions: number;
}

/**
 * The store contract the plugin uses. Every built-in store is a keyv instance with an adapter
 * underneath (see `keyvStore` to bring any keyv adapter). Operations may reject: the plugin counts a
 * failure as a miss and never fails the call.
 */
export interface CacheStore {
  readonly name: string;
  /** In-process and synchronous underneath: the plugin skips its timeout race for it. */
  readonly local: boolean;
  get(key: string): Promise<CacheEntry | undefined>;
  /** Resolves false when the store declined the entry (for example larger than its byte bound). */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /**
   * Deletes the keys matching a glob pattern (`*` any run, `?` one character; nothing else is
   * special). Resolves with the number deleted.
   */
  deleteMatching(pattern: string): Promise<number>;
  /** Deletes every entry of this store (its namespace only, for shared backends). */
  clear(): Promise<void>;
  usage?(): StoreUsage | undefined;
  /**
   * Resolves once the store can serve, or its first attempt to connect failed (bounded): the plugin
   * returns it from `setup`, so the gateway's first calls wait for it instead of missing.
   */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/** `cache.stats()`: counters since the plugin was created. */
export interface CacheStats {
  /** Answers served from the store. */
  hits: number;
  /** Answers shared from an identical call in flight (single-flight followers). */
  coalesced: number;
  /** Cacheable calls that went upstream (store failures included). */
  misses: number;
  /** Calls the policy did not cache. */
  skips: number;
  /** (hits + coalesced) / (hits + coalesced + misses); 0 before any cacheable call. */
  hitRate: number;
  /** Upstream calls saved: hits + coalesced. */
  callsSaved: number;
  /** Tokens the saved calls would have spent (from the cached usage). */
  tokensSaved: { input: number; output: number };
  /** Entries written. */
  stores: number;
  /** Failed or timed-out store operations. */
  errors: number;
  /** From the store, where it can tell (memory, SQLite, two-tier's front); else 0. */
  evictions: number;
  entries: number;
  bytes: number;
}
