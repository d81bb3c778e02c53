export { defineEmbedder, type EmbedderDefinition } from './embedders/custom.js';
export { LOCAL_THRESHOLD, type LocalEmbedderOptions, localEmbedder } from './embedders/local.js';
export { type ProviderEmbedderOptions, providerEmbedder } from './embedders/provider.js';
export { EmbeddingError, IndexFileError, SemanticCacheErrorCode } from './errors.js';
export { GUARD_NAMES, type GuardName, type GuardOptions } from './guards.js';
export { ExactIndex, exactIndex } from './index/exact.js';
export { HnswIndex, type HnswIndexOptions, hnswIndex } from './index/hnsw.js';
export type { SemanticCacheOptions } from './options.js';
export type { LoadResult } from './persist.js';
export { type Comparison, type SemanticCachePlugin, type SemanticCacheStats, semanticCache } from './plugin.js';
export {
  ATTR_SEMANTIC_CANDIDATES,
  ATTR_SEMANTIC_HIT,
  ATTR_SEMANTIC_REASON,
  ATTR_SEMANTIC_RESULT,
  ATTR_SEMANTIC_SIMILARITY,
  METRIC_SEMANTIC_EMBED_DURATION,
  METRIC_SEMANTIC_ERRORS,
  METRIC_SEMANTIC_INDEX_SIZE,
  METRIC_SEMANTIC_LOOKUP_DURATION,
  METRIC_SEMANTIC_REQUESTS,
  METRIC_SEMANTIC_SIMILARITY,
} from './telemetry.js';
export type {
  EmbedContext,
  Embedder,
  IndexFactory,
  Neighbor,
  SemanticCacheCallOptions,
  SemanticCacheMeta,
  SemanticResult,
  SemanticSkipReason,
  VectorIndex,
} from './types.js';
