import { failedGuard, type GuardName, type ResolvedGuards } from './guards.js';
import type { Analysis } from './text/analyze.js';

export type Verdict = { hit: true } | { hit: false; reason: 'below-threshold' | GuardName };

/**
 * Whether a cached question answers a new one: similar enough, and no guard tells them apart. The
 * plugin and the evaluation both decide through this function.
 */
export function decide(
  similarity: number,
  threshold: number,
  question: Analysis,
  cached: Analysis,
  guards: ResolvedGuards,
): Verdict {
  if (!(similarity >= threshold)) return { hit: false, reason: 'below-threshold' };
  const failed = failedGuard(question, cached, guards);
  return failed === undefined ? { hit: true } : { hit: false, reason: failed };
}

/** Dot product of two vectors of the same length (cosine similarity for unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Scales a vector to unit length in place (a zero vector stays zero); returns it. */
export function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  if (n > 0 && Math.abs(n - 1) > 1e-6) for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}
