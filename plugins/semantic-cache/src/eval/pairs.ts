import { readFile } from 'node:fs/promises';
import { decide } from '../decide.js';
import type { ResolvedGuards } from '../guards.js';
import { analyzeCached } from '../text/memo.js';
import type { Embedder } from '../types.js';

/** One labeled pair of `eval/pairs.jsonl`: `a` is the cached question, `b` the new one. */
export interface Pair {
  id: string;
  /** `hit`: a paraphrase that should share the answer; `miss`: a near miss that must not. */
  label: 'hit' | 'miss';
  /** `paraphrase`, or the kind of near miss: city, number, negation, entity, unit, date, quote, semantic. */
  kind: string;
  domain: string;
  a: string;
  b: string;
  /** `tune`: the threshold is chosen on it; `test`: held out, reported only. */
  split: 'tune' | 'test' | 'fresh';
}

export interface Scored extends Pair {
  similarity: number;
  /** Why the pair is not a hit at the threshold it was decided at; undefined for a hit. */
  reason: string | undefined;
}

export async function loadPairs(path: URL | string): Promise<Pair[]> {
  const text = await readFile(path, 'utf8');
  const pairs: Pair[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const p = JSON.parse(line) as Pair;
    if ((p.label !== 'hit' && p.label !== 'miss') || typeof p.a !== 'string' || typeof p.b !== 'string') {
      throw new Error(`${String(path)}:${i + 1}: a pair needs label hit|miss and strings a, b`);
    }
    pairs.push(p);
  }
  return pairs;
}

/** Similarity of every pair (embedded in batches). */
export async function similarities(embedder: Embedder, pairs: readonly Pair[]): Promise<number[]> {
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < texts.length; i += 64) {
    const batch = texts.slice(i, i + 64);
    const out = await embedder.embed(batch);
    for (const [j, t] of batch.entries()) vectors.set(t, unit(out[j]!));
  }
  return pairs.map((p) => {
    const a = vectors.get(p.a)!;
    const b = vectors.get(p.b)!;
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  });
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

export function score(
  pairs: readonly Pair[],
  sims: readonly number[],
  threshold: number,
  guards: ResolvedGuards,
): Scored[] {
  return pairs.map((p, i) => {
    const v = decide(sims[i]!, threshold, analyzeCached(p.b), analyzeCached(p.a), guards);
    return { ...p, similarity: sims[i]!, reason: v.hit ? undefined : v.reason };
  });
}

export interface Metrics {
  pairs: number;
  paraphrases: number;
  nearMisses: number;
  hits: number;
  falseHits: number;
  precision: number;
  recall: number;
  falseHitRate: number;
}

export function metrics(scored: readonly Scored[]): Metrics {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  let neg = 0;
  for (const s of scored) {
    const hit = s.reason === undefined;
    if (s.label === 'hit') {
      pos++;
      if (hit) tp++;
    } else {
      neg++;
      if (hit) fp++;
    }
  }
  return {
    pairs: scored.length,
    paraphrases: pos,
    nearMisses: neg,
    hits: tp + fp,
    falseHits: fp,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: pos === 0 ? 0 : tp / pos,
    falseHitRate: neg === 0 ? 0 : fp / neg,
  };
}

/**
 * The threshold chosen on the tune split: the lowest (best recall) whose false-hit rate is at most
 * `maxFalseHitRate`, on a grid of 0.01, plus `margin` (a threshold that sits exactly at the edge of
 * the tune set's last false hit generalizes worse than one a little above it).
 */
export function chooseThreshold(
  pairs: readonly Pair[],
  sims: readonly number[],
  guards: ResolvedGuards,
  maxFalseHitRate: number,
  margin: number,
): number {
  for (let t = 0.3; t <= 0.995; t += 0.01) {
    const rounded = Math.round(t * 100) / 100;
    if (metrics(score(pairs, sims, rounded, guards)).falseHitRate <= maxFalseHitRate) {
      return Math.min(0.99, Math.round((rounded + margin) * 100) / 100);
    }
  }
  return 0.99;
}
