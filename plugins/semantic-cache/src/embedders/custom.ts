import { ConfigError } from '@flowgate/core';
import type { EmbedContext, Embedder } from '../types.js';

export interface EmbedderDefinition {
  /** Names the embedding space (model and size): a persisted index made with another id is not loaded. */
  id: string;
  dimensions: number;
  /** The similarity threshold you calibrated for it (`npm run eval` shows how). */
  threshold?: number;
  embed(texts: readonly string[], ctx?: EmbedContext): Promise<Float32Array[]>;
}

/**
 * Checks a user-supplied embedder and returns it as an `Embedder`: any function from texts to vectors
 * (a local ONNX model, another vendor's API, a cache in front of one).
 *
 * @example
 * const embedder = defineEmbedder({
 *   id: 'my-model/384',
 *   dimensions: 384,
 *   threshold: 0.9,
 *   embed: async (texts) => (await myModel.encode(texts)).map((v) => Float32Array.from(v)),
 * });
 */
export function defineEmbedder(definition: EmbedderDefinition): Embedder {
  if (typeof definition !== 'object' || definition === null) throw new ConfigError('defineEmbedder needs an object');
  const { id, dimensions, threshold, embed } = definition;
  if (typeof id !== 'string' || id === '') throw new ConfigError('an embedder needs a non-empty string `id`');
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new ConfigError(`embedder "${id}": dimensions must be a positive integer, got ${String(dimensions)}`);
  }
  if (threshold !== undefined && !(typeof threshold === 'number' && threshold > -1 && threshold <= 1)) {
    throw new ConfigError(`embedder "${id}": threshold must be a number in (-1, 1], got ${String(threshold)}`);
  }
  if (typeof embed !== 'function') throw new ConfigError(`embedder "${id}": embed must be a function`);
  const out: Embedder = { id, dimensions, embed: (texts, ctx) => embed(texts, ctx) };
  return threshold === undefined ? out : { ...out, threshold };
}
