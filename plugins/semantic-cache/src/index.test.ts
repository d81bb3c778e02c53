import { ConfigError } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { ExactIndex, exactIndex } from './index/exact.js';
import { HnswIndex, hnswIndex } from './index/hnsw.js';
import { indexConformance, vectors } from './index-conformance.test-suite.js';
import type { VectorIndex } from './types.js';

const flush = (index: VectorIndex) => (index as HnswIndex).flush();

indexConformance('exact', exactIndex());
indexConformance('hnsw, searched while its graph is being built', hnswIndex({ exactBelow: 0 }));
indexConformance('hnsw, graph built', hnswIndex({ exactBelow: 0 }), flush);
indexConformance('hnsw, brute force below 100, then a graph', hnswIndex({ exactBelow: 100 }), flush);
indexConformance('hnsw f32', hnswIndex({ exactBelow: 0, quantization: 'f32' }), flush);
indexConformance('hnsw i8', hnswIndex({ exactBelow: 0, quantization: 'i8' }), flush);

describe('HnswIndex', () => {
  it('searches by brute force until the partition reaches exactBelow, then through a graph', () => {
    const index = new HnswIndex(16, { exactBelow: 10 });
    const gen = vectors(5, 16);
    for (let i = 0; i < 9; i++) index.add(i, gen.random());
    expect(index.approximate).toBe(false);
    index.add(9, gen.random());
    expect(index.approximate).toBe(true);
  });

  it('builds its graph in the background, finding new vectors meanwhile', async () => {
    const index = new HnswIndex(16, { exactBelow: 0 });
    const gen = vectors(12, 16);
    const stored = Array.from({ length: 500 }, gen.random);
    for (const [i, v] of stored.entries()) index.add(i, v);
    // Nothing inserted yet: the pending vectors are scanned exactly.
    expect(index.pendingCount).toBe(500);
    expect(index.search(stored[499]!, 1)[0]!.id).toBe(499);
    // Background steps drain the pending list (no call waits for them).
    while (index.pendingCount > 0) await new Promise((r) => setImmediate(r));
    expect(index.search(stored[499]!, 1)[0]).toMatchObject({ id: 499 });
    // A vector added now is found at once, before its background step.
    const fresh = gen.random();
    index.add(1000, fresh);
    expect(index.pendingCount).toBe(1);
    expect(index.search(fresh, 1)[0]!.id).toBe(1000);
    // Removed while pending: never inserted, never found.
    index.add(1001, gen.random());
    index.remove(1001);
    index.flush();
    expect(index.size).toBe(501);
    expect(index.search(fresh, 5).some((n) => n.id === 1001)).toBe(false);
  });

  it('agrees with exact search on near-duplicate queries', () => {
    const d = 64;
    const exact = new ExactIndex(d);
    const hnsw = new HnswIndex(d, { exactBelow: 0 });
    const gen = vectors(9, d);
    const stored = Array.from({ length: 2000 }, gen.random);
    for (const [i, v] of stored.entries()) {
      exact.add(i, v);
      hnsw.add(i, v);
    }
    hnsw.flush();
    let agree = 0;
    for (let i = 0; i < 200; i++) {
      const q = gen.near(stored[(i * 37) % stored.length]!, 0.1);
      if (exact.search(q, 1)[0]!.id === hnsw.search(q, 1)[0]!.id) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(196);
  });

  it('rejects bad options at creation', () => {
    expect(() => hnswIndex({ connectivity: 1 })).toThrow(ConfigError);
    expect(() => hnswIndex({ quantization: 'f8' as never })).toThrow(/quantization/);
    expect(() => new ExactIndex(0)).toThrow(ConfigError);
    expect(() => new ExactIndex(4).add(1, new Float32Array(3))).toThrow(RangeError);
  });
});
