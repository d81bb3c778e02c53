/**
 * bench/semantic: the semantic cache's vector search.
 *
 * For each index size (default 10k and 100k entries of the local embedder's 256 dimensions), in one run:
 *   exact          ExactIndex: brute force over a Float32Array (the baseline of the ratios),
 *   hnsw           HnswIndex: the plugin's default once a partition is large (usearch graph, i8,
 *                  M 96, efConstruction 256, ef 128, proposing k + 4 candidates re-scored exactly
 *                  from f32 rows),
 *   variants       optional extra HnswIndex rows (BENCH_SEMANTIC_VARIANTS, e.g. the previous default
 *                  32:128:i8:128),
 *   usearch        the usearch graph alone (f32, M 16, ef 64), the library comparison,
 *   hnswlib-node   hnswlib-node alone (f32, M 16, ef 64), the same comparison.
 * Each: build time (vectors added one at a time, as the plugin indexes; HnswIndex then drains its
 * background queue), lookup p50/p99 for one query (k = 4), and recall@1 against exact search.
 *
 * Data: half the entries are random unit vectors, half are in clusters of ~100 (each member at cosine
 * ~0.8 from its cluster's centre; only every other centre has members). Half the queries are
 * near-duplicates of a stored entry (cosine ~0.95: a paraphrase of a cached question), half are new
 * members of a cluster: of a populated one about half the time (cosine ~0.65 to the other members: a
 * new question on a known topic, whose nearest neighbour is a close call), otherwise of an empty one
 * (no close match at all: the best is a random vector at ~0.25, the case a graph finds hardest).
 * Recall is reported for each kind, and for the queries whose exact best match is above the default
 * threshold (0.77): the ones where a miss of the graph is a lost cache hit.
 * Then the local embedder's cost per question (the other half of a lookup).
 * Targets (issue 8): p99 <= 1 ms at 100k entries with recall@1 >= 0.95.
 */

import { createRequire } from 'node:module';
import {
  ExactIndex,
  HnswIndex,
  type HnswIndexOptions,
  localEmbedder,
  type VectorIndex,
} from '@flowgate/plugin-semantic-cache';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about =
  'semantic cache vector search: exact vs HNSW (usearch, hnswlib-node) at 10k/100k: p50/p99, recall@1, build';

const SIZES = (process.env.BENCH_SEMANTIC_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_SEMANTIC_QUERIES ?? 1000);
const DIMS = Number(process.env.BENCH_SEMANTIC_DIMS ?? 256);
const K = 4;
/** The local embedder's default threshold: a query whose best match is below it can never be a hit. */
const THRESHOLD = 0.77;
/** Below this exact best similarity a query has no close match (in this data: a query at an empty cluster). */
const NO_CLOSE_MATCH = 0.5;

/** Deterministic PRNG (LCG) and Gaussian noise, so every run indexes the same vectors. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

/** Per-coordinate Gaussian noise that puts a noisy copy of a unit vector at cosine ~`cos` from it. */
const sigmaFor = (cos: number, d: number) => Math.sqrt((1 / (cos * cos) - 1) / d);

function dataset(n: number, queries: number, d: number): { vectors: Float32Array[]; queries: Float32Array[] } {
  const r = rng(42);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const randomVector = () => unit(Float32Array.from({ length: d }, gauss));
  const near = (v: Float32Array, cos: number) => {
    const sigma = sigmaFor(cos, d);
    return unit(Float32Array.from(v, (x) => x + sigma * gauss()));
  };
  const centers = Array.from({ length: Math.max(10, Math.round(n / 100)) }, randomVector);
  const vectors = Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? randomVector() : near(centers[i % centers.length]!, 0.8),
  );
  const qs = Array.from({ length: queries }, (_, i) =>
    i % 2 === 0 ? near(vectors[Math.floor(r() * n)]!, 0.95) : near(centers[Math.floor(r() * centers.length)]!, 0.8),
  );
  return { vectors, queries: qs };
}

interface Mode {
  name: string;
  /** Builds the index with one add per vector; returns a search function giving the best match. */
  build(vectors: Float32Array[]): (q: Float32Array) => { id: number; similarity?: number } | undefined;
}

function indexMode(name: string, make: () => VectorIndex): Mode {
  return {
    name,
    build(vectors) {
      const index = make();
      for (let i = 0; i < vectors.length; i++) index.add(i, vectors[i]!);
      if (index instanceof HnswIndex) index.flush();
      return (q) => index.search(q, K)[0];
    },
  };
}

type Usearch = typeof import('usearch');
interface HnswlibNode {
  HierarchicalNSW: new (
    space: string,
    dim: number,
  ) => {
    initIndex(max: number, m: number, ef: number, seed: number): void;
    addPoint(p: number[], label: number): void;
    setEf(ef: number): void;
    searchKnn(q: number[], k: number): { neighbors: number[] };
  };
}

/** The libraries are loaded here so the benchmark still runs (without those rows) if one is not installed. */
function libraryModes(): { modes: Mode[]; missing: string[] } {
  const require = createRequire(import.meta.url);
  const modes: Mode[] = [];
  const missing: string[] = [];
  try {
    const { Index, MetricKind, ScalarKind } = require('usearch') as Usearch;
    modes.push({
      name: 'usearch alone (f32, M 16, ef 64)',
      build(vectors) {
        const ix = new Index({
          dimensions: DIMS,
          metric: MetricKind.IP,
          quantization: ScalarKind.F32,
          connectivity: 16,
          expansion_add: 128,
          expansion_search: 64,
          multi: false,
        });
        for (let i = 0; i < vectors.length; i++) ix.add(BigInt(i), vectors[i]!, 1);
        return (q) => {
          const key = ix.search(q, K, 1).keys[0];
          return key === undefined ? undefined : { id: Number(key) };
        };
      },
    });
  } catch {
    missing.push('usearch');
  }
  try {
    const { HierarchicalNSW } = require('hnswlib-node') as HnswlibNode;
    modes.push({
      name: 'hnswlib-node alone (f32, M 16, ef 64)',
      build(vectors) {
        const ix = new HierarchicalNSW('ip', DIMS);
        ix.initIndex(vectors.length, 16, 128, 100);
        // hnswlib-node takes plain arrays only: the conversion is part of what a caller pays.
        for (let i = 0; i < vectors.length; i++) ix.addPoint(Array.from(vectors[i]!), i);
        ix.setEf(64);
        return (q) => {
          const id = ix.searchKnn(Array.from(q), K).neighbors[0];
          return id === undefined ? undefined : { id };
        };
      },
    });
  } catch {
    missing.push('hnswlib-node');
  }
  return { modes, missing };
}

export async function main(): Promise<void> {
  // BENCH_SEMANTIC_LIBS=0 leaves out the library comparison rows (the slowest to build).
  const { modes: libs, missing } =
    process.env.BENCH_SEMANTIC_LIBS === '0' ? { modes: [], missing: [] } : libraryModes();
  const modes: Mode[] = [
    indexMode('exact (ExactIndex)', () => new ExactIndex(DIMS)),
    indexMode('hnsw (HnswIndex: usearch i8, M 96, ef 128, re-score)', () => new HnswIndex(DIMS, { exactBelow: 0 })),
    // Extra HnswIndex rows, "connectivity:expansionSearch[:quantization[:expansionAdd]]":
    // BENCH_SEMANTIC_VARIANTS=32:128:i8:128 (the previous default),48:192
    ...(process.env.BENCH_SEMANTIC_VARIANTS ?? '')
      .split(',')
      .filter(Boolean)
      .map((v) => {
        const [m, ef, q, efc] = v.split(':');
        const quantization = (q || 'i8') as HnswIndexOptions['quantization'];
        const expansionAdd = efc ? Number(efc) : undefined;
        return indexMode(
          `hnsw variant (${quantization}, M ${m}, ef ${ef}${efc ? `, efc ${efc}` : ''})`,
          () =>
            new HnswIndex(DIMS, {
              exactBelow: 0,
              connectivity: Number(m),
              expansionSearch: Number(ef),
              quantization,
              expansionAdd,
            }),
        );
      }),
    ...libs,
  ];
  const out: string[] = [];
  const targets: string[] = [];
  for (const n of SIZES) {
    const { vectors, queries } = dataset(n, QUERIES, DIMS);
    const rows: string[][] = [];
    let truth: number[] = [];
    const truthSims: number[] = [];
    let baseP50 = Number.NaN;
    for (const [m, mode] of modes.entries()) {
      const p = progress(`${n} entries: ${mode.name}`);
      const t0 = performance.now();
      const search = mode.build(vectors);
      const buildMs = performance.now() - t0;
      // Warm-up: JIT, caches.
      for (let i = 0; i < Math.min(200, queries.length); i++) search(queries[i]!);
      const lat: number[] = [];
      const found: number[] = [];
      for (let i = 0; i < queries.length; i++) {
        const s = performance.now();
        const best = search(queries[i]!);
        lat.push((performance.now() - s) * 1000);
        found.push(best?.id ?? -1);
        if (m === 0) truthSims.push(best?.similarity ?? -1);
        p.update(i + 1, queries.length);
      }
      p.done();
      if (m === 0) truth = found;
      // Even queries are near-duplicates of a stored vector, odd ones new members of a cluster: of a
      // populated one, or of an empty one (then no stored vector is close: the exact best is < 0.5).
      const kinds: Record<string, (i: number) => boolean> = {
        nearDup: (i) => i % 2 === 0,
        inCluster: (i) => i % 2 === 1 && truthSims[i]! >= NO_CLOSE_MATCH,
        noCloseMatch: (i) => i % 2 === 1 && truthSims[i]! < NO_CLOSE_MATCH,
        aboveThreshold: (i) => truthSims[i]! >= THRESHOLD,
      };
      const recallOf = (kind: (i: number) => boolean) => {
        let count = 0;
        let agree = 0;
        for (let i = 0; i < found.length; i++) {
          if (!kind(i)) continue;
          count++;
          if (found[i] === truth[i]) agree++;
        }
        return { count, recall: count === 0 ? Number.NaN : agree / count };
      };
      const recall = recallOf(() => true).recall;
      const byKind = Object.values(kinds).map(recallOf);
      const s = summarize(lat);
      if (m === 0) baseP50 = s.p50;
      rows.push([
        mode.name,
        fmt(buildMs, 0),
        fmt(s.p50),
        fmt(s.p99),
        m === 0 ? '1.00x' : `${fmt(s.p50 / baseP50, 3)}x`,
        m === 0 ? '1 (exact)' : fmt(recall, 3),
        ...byKind.map((k) => (m === 0 ? `(${k.count} queries)` : fmt(k.recall, 3))),
      ]);
      const recallInRange = byKind[3]!.recall;
      if (m === 1) {
        targets.push(
          `  ${n} entries: HnswIndex p99 ${fmt(s.p99)} us (target <= 1,000 at 100k), recall@1 ${fmt(recall, 3)} (target >= 0.95; ${fmt(recallInRange, 3)} where the best match is above 0.77)`,
        );
      }
    }
    out.push(`\n${n.toLocaleString('en-US')} entries x ${DIMS} dimensions, ${queries.length} queries, k = ${K}`);
    out.push(
      table(
        [
          'index',
          'build ms',
          'p50 us',
          'p99 us',
          'p50 vs exact',
          'recall@1',
          'near-dup',
          'in cluster',
          'no close match',
          'best >= 0.77',
        ],
        rows,
      ),
    );
  }

  // The other half of a lookup: embedding the question with the local embedder.
  const embedder = localEmbedder();
  const questions = Array.from(
    { length: 2000 },
    (_, i) => `How do I reset the password of account number ${i} on the web app?`,
  );
  const lat: number[] = [];
  for (const q of questions) {
    const s = performance.now();
    await embedder.embed([q]);
    lat.push((performance.now() - s) * 1000);
  }
  const e = summarize(lat.slice(200));

  console.log(`\nbench/semantic: node ${process.version}, one query at a time, usearch searches on one thread`);
  if (missing.length > 0) console.log(`(not installed, rows skipped: ${missing.join(', ')})`);
  for (const line of out) console.log(line);
  console.log(
    `\nlocal embedder (${embedder.id}), a new 14-word question each time: p50 ${fmt(e.p50)} us, p99 ${fmt(e.p99)} us`,
  );
  console.log('\ntargets:');
  for (const t of targets) console.log(t);
}
