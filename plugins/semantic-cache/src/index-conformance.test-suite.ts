import { describe, expect, it } from 'vitest';
import type { VectorIndex } from './types.js';

/** Deterministic unit vectors: random, or a small perturbation of another. */
export function vectors(seed: number, d: number) {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const unit = (v: Float32Array) => {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n);
    return v.map((x) => x / n);
  };
  return {
    random: () => unit(Float32Array.from({ length: d }, r)),
    near: (v: Float32Array, eps: number) => unit(Float32Array.from(v, (x) => x + eps * r())),
  };
}

const dotOf = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/**
 * What every `VectorIndex` must do; run it for yours: `indexConformance('mine', (d) => myIndex(d))`.
 */
export function indexConformance(
  name: string,
  make: (dimensions: number) => VectorIndex,
  settle: (index: VectorIndex) => void = () => {},
  size = 300,
): void {
  describe(`VectorIndex conformance: ${name}`, () => {
    const d = 32;

    it('finds each stored vector as its own nearest neighbour, with its exact similarity', () => {
      const index = make(d);
      const gen = vectors(7, d);
      const stored = Array.from({ length: size }, gen.random);
      for (const [i, v] of stored.entries()) index.add(i + 1, v);
      settle(index);
      expect(index.size).toBe(size);
      for (let i = 0; i < size; i += 7) {
        const [best] = index.search(stored[i]!, 1);
        expect(best!.id).toBe(i + 1);
        expect(best!.similarity).toBeCloseTo(1, 5);
      }
      // A near-duplicate query finds its original, most similar first, with exact similarities.
      const q = gen.near(stored[42]!, 0.05);
      const found = index.search(q, 3);
      expect(found[0]!.id).toBe(43);
      expect(found[0]!.similarity).toBeCloseTo(dotOf(q, stored[42]!), 5);
      expect(found.map((n) => n.similarity)).toEqual([...found.map((n) => n.similarity)].sort((a, b) => b - a));
    });

    it('forgets removed ids, replaces re-added ones, and returns stored vectors', () => {
      const index = make(d);
      const gen = vectors(11, d);
      const stored = Array.from({ length: size }, gen.random);
      for (const [i, v] of stored.entries()) index.add(i, v);
      settle(index);
      expect(index.remove(5)).toBe(true);
      expect(index.remove(5)).toBe(false);
      expect(index.size).toBe(size - 1);
      expect(index.get(5)).toBeUndefined();
      expect(index.search(stored[5]!, 5).some((n) => n.id === 5)).toBe(false);
      const replacement = gen.random();
      index.add(6, replacement);
      settle(index);
      expect(index.size).toBe(size - 1);
      expect(Array.from(index.get(6)!)).toEqual(Array.from(replacement));
      expect(index.search(replacement, 1)[0]).toMatchObject({ id: 6 });
      // Everything removed: empty results, size 0.
      for (let i = 0; i < size; i++) index.remove(i);
      expect(index.size).toBe(0);
      expect(index.search(replacement, 3)).toEqual([]);
    });

    it('returns at most k neighbours, and all of them when there are fewer', () => {
      const index = make(d);
      const gen = vectors(3, d);
      for (let i = 0; i < 3; i++) index.add(i, gen.random());
      expect(index.search(gen.random(), 10)).toHaveLength(3);
      expect(index.search(gen.random(), 2)).toHaveLength(2);
    });
  });
}
