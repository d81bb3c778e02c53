import { defineEmbedder } from '../embedders/custom.js';
import type { Embedder } from '../types.js';

/**
 * An example of a user-supplied embedder, the kind of thing an app might plug in: plain lower-cased
 * words hashed into 1,024 dimensions, no stop words, synonyms or stemming. It shows the interface
 * (any async function from texts to vectors) and, in the evaluation, what the guards do for an
 * embedder that knows nothing about language.
 */
export function wordHashEmbedder(): Embedder {
  const dimensions = 1024;
  return defineEmbedder({
    id: 'example-word-hash/1024',
    dimensions,
    embed: async (texts) =>
      texts.map((text) => {
        const v = new Float32Array(dimensions);
        for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
          let h = 2166136261;
          for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
          v[(h >>> 0) % dimensions]! += 1;
        }
        return v;
      }),
  });
}
