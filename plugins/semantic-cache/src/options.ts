import { ConfigError, InvalidRequestError } from '@flowgate/core';
import { defaultRules } from '@flowgate/plugin-cache';
import { LOCAL_EMBEDDERS, localEmbedder } from './embedders/local.js';
import { type GuardOptions, type ResolvedGuards, resolveGuards } from './guards.js';
import { exactIndex } from './index/exact.js';
import { hnswIndex } from './index/hnsw.js';
import type { Embedder, IndexFactory, SemanticCacheCallOptions } from './types.js';

export interface SemanticCacheOptions {
  /** Plugin name (default `semantic-cache`). */
  name?: string;
  /** Name of the exact cache plugin whose store holds the answers (default `cache`); install it first. */
  cache?: string;
  /** How questions become vectors (default `localEmbedder()`). */
  embedder?: Embedder;
  /** Minimum cosine similarity for a hit (default: the embedder's calibrated `threshold`; required when it has none). */
  threshold?: number;
  /** Near-miss guards to turn off (all on by default): `{ opposite: false }`. */
  guards?: GuardOptions;
  /**
   * Vector index per partition: `'hnsw'` (default: brute force below 1,000 entries, then an HNSW
   * graph), `'exact'` (always brute force), or a factory (`hnswIndex({ ... })`, your own).
   */
  index?: 'exact' | 'hnsw' | IndexFactory;
  /** Most questions indexed, all partitions together (default 100,000); the least recently used leave first. */
  maxEntries?: number;
  /** Nearest questions checked against the threshold and the guards, best first (default 4). */
  candidates?: number;
  /** Conversations with more user turns skip the semantic layer (default 1: single questions only). */
  maxTurns?: number;
  /** Longer questions skip the semantic layer (default 2,000 characters). */
  maxQuestionChars?: number;
  /**
   * Questions that refer to a time ("today", "now", "this week", a date) skip the semantic layer: the
   * same words asked tomorrow are another question. Default: the exact cache's `defaultRules.timeReferences`;
   * a list of RegExp replaces it; `false` turns it off.
   */
  timeReferences?: readonly RegExp[] | false;
  /** Longest wait for an embedder that is not local, ms (default 1,000); then the call goes on without. */
  embedTimeoutMs?: number;
  /** Longest wait for a remote store read on a candidate, ms (default 250); a slower read counts as a miss. */
  storeTimeoutMs?: number;
  /**
   * Persist the index to this file: loaded at start-up (calls wait for it), saved when the gateway
   * closes, on `save()`, and every `saveIntervalMs` if set.
   */
  persist?: string | { path: string; saveIntervalMs?: number };
  /** How often expired entries are swept out, ms (default 60,000; `0` never: they still leave when seen). */
  sweepIntervalMs?: number;
  /** Clock for entry expiry, ms since epoch (default `Date.now`; use the exact cache's clock). */
  clock?: () => number;
}

export interface Config {
  name: string;
  cache: string;
  embedder: Embedder;
  /** True for embedders made by `localEmbedder()`: synchronous underneath, no timeout race needed. */
  localEmbedder: boolean;
  threshold: number;
  guards: ResolvedGuards;
  index: IndexFactory;
  maxEntries: number;
  candidates: number;
  maxTurns: number;
  maxQuestionChars: number;
  timeReferences: readonly RegExp[];
  embedTimeoutMs: number;
  storeTimeoutMs: number;
  persistPath: string | undefined;
  saveIntervalMs: number;
  sweepIntervalMs: number;
  clock: () => number;
}

function int(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`semanticCache ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function validThreshold(t: unknown): t is number {
  return typeof t === 'number' && Number.isFinite(t) && t > -1 && t <= 1;
}

export function resolveOptions(options: SemanticCacheOptions): Config {
  if (typeof options !== 'object' || options === null) throw new ConfigError('semanticCache options must be an object');
  let embedder = options.embedder;
  let local = false;
  if (embedder === undefined) {
    embedder = localEmbedder();
    local = true;
  } else {
    if (typeof embedder !== 'object' || embedder === null || typeof embedder.embed !== 'function') {
      throw new ConfigError('semanticCache embedder must have an `embed(texts)` function');
    }
    if (!Number.isInteger(embedder.dimensions) || embedder.dimensions <= 0) {
      throw new ConfigError(`semanticCache embedder "${String(embedder.id)}" must have positive integer dimensions`);
    }
    local = LOCAL_EMBEDDERS.has(embedder);
  }
  const threshold = options.threshold ?? embedder.threshold;
  if (threshold === undefined) {
    throw new ConfigError(
      `semanticCache: embedder "${embedder.id}" has no calibrated threshold; set \`threshold\` (measure it with the evaluation set: npm run eval)`,
    );
  }
  if (!validThreshold(threshold)) {
    throw new ConfigError(`semanticCache threshold must be a number in (-1, 1], got ${String(threshold)}`);
  }
  let index: IndexFactory;
  const ix = options.index ?? 'hnsw';
  if (ix === 'hnsw') index = hnswIndex();
  else if (ix === 'exact') index = exactIndex();
  else if (typeof ix === 'function') index = ix;
  else throw new ConfigError(`semanticCache index must be 'hnsw', 'exact' or a factory function, got ${String(ix)}`);

  let timeReferences: readonly RegExp[];
  if (options.timeReferences === undefined) timeReferences = defaultRules.timeReferences;
  else if (options.timeReferences === false) timeReferences = [];
  else if (Array.isArray(options.timeReferences) && options.timeReferences.every((r) => r instanceof RegExp)) {
    // Global or sticky flags would make `test()` stateful.
    timeReferences = options.timeReferences.map((r) => new RegExp(r.source, r.flags.replace(/[gy]/g, '')));
  } else throw new ConfigError('semanticCache timeReferences must be an array of RegExp, or false');

  let persistPath: string | undefined;
  let saveIntervalMs = 0;
  const p = options.persist;
  if (typeof p === 'string' && p !== '') persistPath = p;
  else if (typeof p === 'object' && p !== null && typeof p.path === 'string' && p.path !== '') {
    persistPath = p.path;
    saveIntervalMs = int(p.saveIntervalMs, 0, 'persist.saveIntervalMs', 0);
  } else if (p !== undefined)
    throw new ConfigError('semanticCache persist must be a file path or { path, saveIntervalMs }');

  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new ConfigError('semanticCache clock must be a function');
  const name = options.name ?? 'semantic-cache';
  const cache = options.cache ?? 'cache';
  if (typeof name !== 'string' || name === '') throw new ConfigError('semanticCache name must be a non-empty string');
  if (typeof cache !== 'string' || cache === '') throw new ConfigError('semanticCache cache must be a plugin name');

  return {
    name,
    cache,
    embedder,
    localEmbedder: local,
    threshold,
    guards: resolveGuards(options.guards),
    index,
    maxEntries: int(options.maxEntries, 100_000, 'maxEntries', 1),
    candidates: int(options.candidates, 4, 'candidates', 1),
    maxTurns: int(options.maxTurns, 1, 'maxTurns', 1),
    maxQuestionChars: int(options.maxQuestionChars, 2000, 'maxQuestionChars', 1),
    timeReferences,
    embedTimeoutMs: int(options.embedTimeoutMs, 1000, 'embedTimeoutMs', 1),
    storeTimeoutMs: int(options.storeTimeoutMs, 250, 'storeTimeoutMs', 1),
    persistPath,
    saveIntervalMs,
    sweepIntervalMs: int(options.sweepIntervalMs, 60_000, 'sweepIntervalMs', 0),
    clock,
  };
}

/** Checks the per-call option; a wrong value rejects the call before anything is sent. */
export function validateCallOptions(o: unknown): asserts o is boolean | SemanticCacheCallOptions {
  if (typeof o === 'boolean') return;
  if (typeof o !== 'object' || o === null) {
    throw new InvalidRequestError('options.semanticCache', 'must be a boolean or { threshold }');
  }
  const t = (o as SemanticCacheCallOptions).threshold;
  if (t !== undefined && !validThreshold(t)) {
    throw new InvalidRequestError('options.semanticCache.threshold', 'must be a number in (-1, 1]');
  }
}
