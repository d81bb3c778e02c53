import { type Analysis, analyze } from './analyze.js';

const MAX_ENTRIES = 4096;
const memo = new Map<string, Analysis>();

/**
 * `analyze()` with a bounded memo: a question is read once, by the embedder and by the guards alike,
 * and a cached neighbour checked again is not read again. Oldest-first eviction.
 */
export function analyzeCached(text: string): Analysis {
  let a = memo.get(text);
  if (a !== undefined) return a;
  a = analyze(text);
  if (memo.size >= MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(text, a);
  return a;
}
