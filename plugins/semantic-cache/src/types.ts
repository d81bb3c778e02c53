import type { PluginHost } from '@flowgate/core';
import type { Span } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import type { GuardName } from './guards.js';

/** What the plugin hands an embedder for one call. Every field is optional: embedders also run outside calls. */
export interface EmbedContext {
  /** The call's signal (client gone, deadline, the plugin's embedding timeout). */
  signal?: AbortSignal;
  /** The call's HTTP dispatcher (the pool plugin's when installed), for embedders that go over the network. */
  dispatcher?: Dispatcher;
  /** The call span: an embedder that makes a request starts its span as a child of it. */
  span?: Span;
}

/**
 * Turns texts into vectors. The plugin normalizes what it gets, so similarity is the dot product.
 * Three come with the package: `localEmbedder()` (the default: hashed word and character features,
 * offline), `providerEmbedder()` (a provider's `/v1/embeddings`, pooled and traced), and any object of
 * this shape that you write (`defineEmbedder()` checks one).
 */
export interface Embedder {
  /**
   * Names the embedding space, e.g. `local-v1/256` or `openai/text-embedding-3-small/1536`. A persisted
   * index made with another id is ignored on load: vectors from two models cannot be compared.
   */
  readonly id: string;
  readonly dimensions: number;
  /** The similarity threshold this embedder was calibrated for; the plugin's default when `threshold` is not set. */
  readonly threshold?: number;
  /** One vector per text, in order, each of `dimensions` numbers. */
  embed(texts: readonly string[], ctx?: EmbedContext): Promise<Float32Array[]>;
  /** Called once from the plugin's `setup` (resolve a provider by id, create instruments...). */
  bind?(host: PluginHost): void;
}

/** One result of a vector search: an entry id and its cosine similarity to the query. */
export interface Neighbor {
  id: number;
  similarity: number;
}

/**
 * A nearest-neighbour index over unit vectors (similarity = dot product). One per partition (model,
 * tenant, system prompt...), so a search can only ever see its own partition's entries.
 */
export interface VectorIndex {
  /** `exact`, `hnsw`, or your own. */
  readonly kind: string;
  readonly dimensions: number;
  readonly size: number;
  /** Adds (or replaces) the vector of `id`. */
  add(id: number, vector: Float32Array): void;
  /** Resolves whether `id` was there. */
  remove(id: number): boolean;
  /** Up to `k` neighbours, most similar first, with their exact similarity. */
  search(query: Float32Array, k: number): Neighbor[];
  /** The stored vector of `id` (for persistence). May be a view: copy it before changing the index. */
  get(id: number): Float32Array | undefined;
  /** Frees native memory, if any. */
  dispose?(): void;
}

/** Makes an empty index for vectors of `dimensions` numbers. */
export type IndexFactory = (dimensions: number) => VectorIndex;

/** Why the semantic layer did not look for a similar question. */
export type SemanticSkipReason =
  /** The call option `semanticCache: false`, or `mode: 'never'` at the exact cache. */
  | 'disabled'
  /** The exact cache is not installed before this plugin, so there is no key to store the answer under. */
  | 'no-exact-cache'
  /** The exact cache refused the call (its reason is in `meta.cache.reason`): personal information, time references, temperature... */
  | 'not-cacheable'
  /** `options.cache.refresh`: the answer is fetched again (and indexed). */
  | 'refresh'
  /** More user turns than `maxTurns`. */
  | 'too-many-turns'
  /** The last message is not a user message with text (a tool result, an image...). */
  | 'not-a-question'
  /** The question is longer than `maxQuestionChars`. */
  | 'too-long'
  /** The question refers to a time ("today", "now", a date): a paraphrase asked later is another question. */
  | 'time-reference'
  /** The embedder failed or timed out (counted; the call went on). */
  | 'embed-error';

/** What the semantic layer did: `hit`, `miss` (nothing similar enough), `guard_rejected` or `skip`. */
export type SemanticResult = 'hit' | 'miss' | 'guard_rejected' | 'skip';

/** `response.flowgate.semanticCache` / `stream.meta.semanticCache`. */
export interface SemanticCacheMeta {
  /** True when the answer is a cached answer to a similar question. */
  hit: boolean;
  result: SemanticResult;
  /** Similarity of the best candidate (hits: of the matched question). Absent when skipped or the partition was empty. */
  similarity?: number;
  /** Store key of the answer served (hits). */
  matchedKey?: string;
  /**
   * Hits: `similar`. Misses: `empty` (nothing indexed in the partition), `below-threshold`, or `stale` (the
   * similar questions' answers had left the store). Guard rejections: the guard that refused the best candidate
   * above the threshold (`number`, `entity`...). Skips: a `SemanticSkipReason`.
   */
  reason: SemanticSkipReason | GuardName | 'similar' | 'below-threshold' | 'empty' | 'stale';
}

/** Per-call options: `gateway.complete(req, { semanticCache: false })` or `{ threshold: 0.95 }`. */
export interface SemanticCacheCallOptions {
  /** Similarity threshold for this call. */
  threshold?: number;
}

declare module '@flowgate/core' {
  interface CallOptions {
    /** Semantic cache for this call (`@flowgate/plugin-semantic-cache`): `false` skips it. */
    semanticCache?: boolean | SemanticCacheCallOptions;
  }
  interface CallMeta {
    /** What the semantic cache did for this call (`@flowgate/plugin-semantic-cache`). */
    semanticCache?: SemanticCacheMeta;
  }
}
