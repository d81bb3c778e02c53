import { ConfigError } from '@flowgate/core';
import { analyzeCached } from '../text/memo.js';
import type { Embedder } from '../types.js';

export interface LocalEmbedderOptions {
  /** Vector size (default 256). More dimensions mean fewer hash collisions and slower search. */
  dimensions?: number;
  /** Weight of the pair of each two neighbouring words (default 0.5): some word order. */
  bigramWeight?: number;
  /** Weight of each word's character trigrams, all together (default 0.5): typos and word forms. */
  charWeight?: number;
}

/**
 * The similarity threshold the default local embedder ships with, chosen on the `tune` half of
 * `eval/pairs.jsonl` (see the README: the lowest threshold whose false-hit rate, guards included, is
 * at most 1% on that half, plus a margin) and reported on the held-out half by `npm run eval`.
 */
export const LOCAL_THRESHOLD = 0.77;

/** Embedders made by `localEmbedder()`: their `embed` never waits on I/O, so the plugin races no timeout against them. */
export const LOCAL_EMBEDDERS = new WeakSet<Embedder>();

/** 32-bit FNV-1a. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The default embedder: no model, no download, no network. A question becomes a bag of hashed
 * features (the "hashing trick"), normalized to unit length:
 *
 * - its content words, after contractions, stop words, a synonym list and light stemming
 *   ("How can I remove a git branch?" → `delete`, `git`, `branch`), question words weighted low;
 * - each pair of neighbouring content words (some word order: "list to string" ≠ "string to list");
 * - each content word's character trigrams (typos, plurals, "tyre"/"tire").
 *
 * Each feature adds ±weight at `hash % dimensions` (the sign from another hash bit, so collisions
 * cancel out on average instead of adding up). It captures wording, not meaning: paraphrases that
 * share no words are missed, and questions that differ in one decisive word are told apart by the
 * threshold and the guards, not by the vectors.
 */
export function localEmbedder(options: LocalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 256;
  if (!Number.isInteger(dimensions) || dimensions < 16 || dimensions > 65_536) {
    throw new ConfigError(`localEmbedder dimensions must be an integer from 16 to 65536, got ${String(dimensions)}`);
  }
  const bigramWeight = weight(options.bigramWeight, 0.5, 'bigramWeight');
  const charWeight = weight(options.charWeight, 0.5, 'charWeight');

  const add = (v: Float32Array, feature: string, w: number) => {
    const h = fnv1a(feature);
    v[h % dimensions]! += (h & 0x80000000) === 0 ? w : -w;
  };

  const embedOne = (text: string): Float32Array => {
    const v = new Float32Array(dimensions);
    const { words, weights } = analyzeCached(text);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      const u = weights[i]!;
      add(v, `w:${w}`, u);
      if (i + 1 < words.length) add(v, `b:${w} ${words[i + 1]}`, bigramWeight * Math.min(u, weights[i + 1]!));
      if (charWeight > 0 && w.length > 2) {
        const padded = `<${w}>`;
        const n = padded.length - 2;
        const cw = (charWeight * u) / Math.sqrt(n);
        for (let j = 0; j < n; j++) add(v, `c:${padded.slice(j, j + 3)}`, cw);
      }
    }
    if (words.length === 0) add(v, `raw:${text.trim().toLowerCase()}`, 1);
    let norm = 0;
    for (let i = 0; i < dimensions; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < dimensions; i++) v[i]! /= norm;
    return v;
  };

  const embedder: Embedder = {
    id: `local-v1/${dimensions}/${bigramWeight}/${charWeight}`,
    dimensions,
    threshold: LOCAL_THRESHOLD,
    embed: async (texts) => texts.map(embedOne),
  };
  LOCAL_EMBEDDERS.add(embedder);
  return embedder;
}

function weight(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`localEmbedder ${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
