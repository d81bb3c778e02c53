export { type CachePlugin, type CacheTags, cache } from './cache.js';
export {
  CacheErrorCode,
  CacheStoreError,
  CacheStoreTimeoutError,
  CacheStoreUnavailableError,
  CacheUnsupportedError,
  InvalidCachePatternError,
  type StoreOperation,
} from './errors.js';
export { encodeSegment, KEY_VERSION, tagPattern } from './key.js';
export { type NormalizeOptions, normalizeText } from './normalize.js';
export type { CacheOptions } from './options.js';
export { DEFAULT_TTL_BY_KIND, defaultRules, type KindRule, type SmartRules } from './rules.js';
export { type KeyvStoreOptions, keyvStore } from './stores/keyv-store.js';
export { type MemoryStoreOptions, memoryStore } from './stores/memory.js';
export { type RedisClient, type RedisStoreOptions, redisStore } from './stores/redis.js';
export { type SqliteStoreOptions, sqliteStore } from './stores/sqlite.js';
export { type TwoTierStoreOptions, twoTierStore } from './stores/two-tier.js';
export { replayChunks, storable } from './stream.js';
export {
  ATTR_CACHE_AGE_MS,
  ATTR_CACHE_HIT,
  ATTR_CACHE_KIND,
  ATTR_CACHE_OPERATION,
  ATTR_CACHE_REASON,
  ATTR_CACHE_RESULT,
  ATTR_CACHE_STORE,
  METRIC_CACHE_BYTES,
  METRIC_CACHE_ENTRIES,
  METRIC_CACHE_ERRORS,
  METRIC_CACHE_EVICTIONS,
  METRIC_CACHE_LOOKUP_DURATION,
  METRIC_CACHE_REQUESTS,
  METRIC_CACHE_STORES,
  METRIC_CACHE_TOKENS_SAVED,
} from './telemetry.js';
export type {
  CacheCallOptions,
  CacheCallView,
  CacheEntry,
  CacheKeying,
  CacheMeta,
  CacheMode,
  CacheResult,
  CacheSkipReason,
  CacheStats,
  CacheStore,
  StoreUsage,
} from './types.js';
