import { createRequire } from 'node:module';
import { ConfigError } from '@flowgate/core';
import type { Index as UsearchIndex } from 'usearch';
import type { Neighbor, VectorIndex } from '../types.js';
import { ExactIndex } from './exact.js';

export interface HnswIndexOptions {
  /**
   * Links per node (HNSW `M`; default 96, so 192 on the base layer). More: better recall at the same
   * `expansionSearch`, more memory, slower inserts. High-dimensional vectors with no close neighbour are
   * what a graph finds worst, and what a large `M` helps most (see the benchmark).
   */
  connectivity?: number;
  /**
   * Candidate list size while inserting (`efConstruction`; default `max(256, 2 * connectivity)`). Keep
   * it at least twice `connectivity`: below that the base layer's links are chosen from too few
   * candidates (M 96 with 128 here: recall@1 0.956 -> 0.925 at 100k entries).
   */
  expansionAdd?: number;
  /** Candidate list size while searching (`ef`; default 128). More: better recall, slower searches. */
  expansionSearch?: number;
  /**
   * How the graph stores its copy of the vectors (default `i8`: the fastest in the benchmark, and no
   * worse in recall). The graph only proposes candidates: their similarity is then computed exactly
   * from the f32 rows, so quantization can cost recall but never skews the threshold decision.
   */
  quantization?: 'f32' | 'f16' | 'bf16' | 'i8';
  /**
   * Below this many entries a partition is searched by brute force and has no graph (default 500):
   * exact, and about as fast at that size. The graph is built when the partition reaches it.
   */
  exactBelow?: number;
}

type UsearchModule = typeof import('usearch');
let usearch: UsearchModule | undefined;

/** usearch is loaded on first use (it loads a native addon), synchronously from its CommonJS build. */
function loadUsearch(): UsearchModule {
  if (usearch === undefined) {
    try {
      usearch = createRequire(import.meta.url)('usearch') as UsearchModule;
    } catch (err) {
      throw new ConfigError(
        `hnswIndex needs the "usearch" package (a dependency of @flowgate/plugin-semantic-cache): ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
  }
  return usearch;
}

function positiveInt(value: number | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`hnswIndex ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Extra graph candidates re-scored exactly, beyond the `k` asked for. */
const OVERFETCH = 4;
/**
 * A background step inserts batches of `BATCH` vectors until it has run for `STEP_MS`, so the event
 * loop is held for about that long whatever an insert costs (1.7 ms at 100k entries with the default
 * settings, 0.5 ms with M 32). One thread: with usearch's multi-threaded batch insert, a test saw about one graph in 40
 * lose a node (never found again); single-threaded inserts never did.
 */
const BATCH = 2;
const STEP_MS = 10;

/**
 * Approximate search with an HNSW graph (usearch) over exact f32 rows kept beside it: the graph
 * proposes `k + 4` candidates, each re-scored with an exact dot product.
 *
 * Inserting into a large graph costs one or two milliseconds, so it never happens on a call's
 * path: a new vector joins the rows at once and waits in a pending list that background steps
 * (`setImmediate`, ~10 ms of inserts at a time, one thread) move into the graph. A search scans the pending list
 * exactly besides the graph, so what was just added is found at once. Small partitions
 * (`exactBelow`) have no graph at all, and building one (a partition reaching `exactBelow`, or a
 * persisted index loading) is the same background work.
 */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';
  private readonly rows: ExactIndex;
  private graph: UsearchIndex | undefined;
  /** Ids in the rows but not yet in the graph (in insertion order; an id may repeat if replaced). */
  private pending: number[] = [];
  private scheduled = false;
  private readonly connectivity: number;
  private readonly expansionAdd: number;
  private readonly expansionSearch: number;
  private readonly quantization: 'f32' | 'f16' | 'bf16' | 'i8';
  private readonly exactBelow: number;

  constructor(
    readonly dimensions: number,
    options: HnswIndexOptions = {},
  ) {
    this.rows = new ExactIndex(dimensions);
    this.connectivity = positiveInt(options.connectivity, 96, 'connectivity', 2);
    this.expansionAdd = positiveInt(options.expansionAdd, Math.max(256, 2 * this.connectivity), 'expansionAdd');
    this.expansionSearch = positiveInt(options.expansionSearch, 128, 'expansionSearch');
    this.exactBelow = positiveInt(options.exactBelow, 500, 'exactBelow', 0);
    const q = options.quantization ?? 'i8';
    if (!['f32', 'f16', 'bf16', 'i8'].includes(q)) {
      throw new ConfigError(`hnswIndex quantization must be f32, f16, bf16 or i8, got ${String(q)}`);
    }
    this.quantization = q;
    loadUsearch();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Whether the partition has a graph (it reached `exactBelow`). */
  get approximate(): boolean {
    return this.graph !== undefined;
  }

  /** Vectors waiting to join the graph. */
  get pendingCount(): number {
    return this.pending.length;
  }

  add(id: number, vector: Float32Array): void {
    const replacing = this.rows.get(id) !== undefined;
    this.rows.add(id, vector);
    if (this.graph !== undefined) {
      if (replacing) this.graph.remove(BigInt(id));
      this.pending.push(id);
      this.schedule();
    } else if (this.rows.size >= this.exactBelow) {
      this.graph = this.createGraph();
      this.pending = [...this.rows.keys()];
      this.schedule();
    }
  }

  remove(id: number): boolean {
    if (!this.rows.remove(id)) return false;
    // A pending id is skipped when its turn comes (it is no longer in the rows).
    this.graph?.remove(BigInt(id));
    return true;
  }

  get(id: number): Float32Array | undefined {
    return this.rows.get(id);
  }

  search(query: Float32Array, k: number): Neighbor[] {
    const graph = this.graph;
    if (graph === undefined) return this.rows.search(query, k);
    if (k <= 0 || this.rows.size === 0) return [];
    const out: Neighbor[] = [];
    if (graph.size() > 0) {
      // The graph holds each key once (multi: false), so its candidates need no de-duplication.
      const keys = graph.search(query, k + OVERFETCH, 1).keys;
      for (let i = 0; i < keys.length; i++) {
        const id = Number(keys[i]);
        const similarity = this.rows.similarity(query, id);
        if (similarity !== undefined) out.push({ id, similarity });
      }
    }
    if (this.pending.length > 0) this.scanPending(query, out);
    out.sort((a, b) => b.similarity - a.similarity);
    if (out.length > k) out.length = k;
    return out;
  }

  /** Moves every pending vector into the graph now (a benchmark or a test that wants the steady state). */
  flush(): void {
    while (this.pending.length > 0) this.insert(4096);
  }

  dispose(): void {
    this.graph = undefined;
    this.pending = [];
  }

  /** Adds the pending vectors to `out`, exactly scored (an id repeats in the list if replaced while pending). */
  private scanPending(query: Float32Array, out: Neighbor[]): void {
    const seen = new Set<number>();
    for (const n of out) seen.add(n.id);
    for (const id of this.pending) {
      if (seen.has(id)) continue;
      const similarity = this.rows.similarity(query, id);
      if (similarity === undefined) continue;
      seen.add(id);
      out.push({ id, similarity });
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.graph === undefined) return;
      const start = performance.now();
      do {
        this.insert(BATCH);
      } while (this.pending.length > 0 && performance.now() - start < STEP_MS);
      if (this.pending.length > 0) this.schedule();
    }).unref();
  }

  /** Inserts up to `n` pending vectors into the graph, as one batch. */
  private insert(n: number): void {
    const graph = this.graph;
    if (graph === undefined) {
      this.pending = [];
      return;
    }
    const ids = this.pending.splice(0, n);
    const keys: bigint[] = [];
    const taken = new Set<number>();
    const batch = new Float32Array(ids.length * this.dimensions);
    for (const id of ids) {
      const v = this.rows.get(id);
      // Removed while pending; or replaced while pending (the rows hold the latest vector).
      if (v === undefined || taken.has(id)) continue;
      taken.add(id);
      const key = BigInt(id);
      if (graph.contains(key)) graph.remove(key);
      batch.set(v, keys.length * this.dimensions);
      keys.push(key);
    }
    if (keys.length === 0) return;
    graph.add(BigUint64Array.from(keys), batch.subarray(0, keys.length * this.dimensions), 1);
  }

  private createGraph(): UsearchIndex {
    const { Index, MetricKind, ScalarKind } = loadUsearch();
    const quantization = {
      f32: ScalarKind.F32,
      f16: ScalarKind.F16,
      bf16: ScalarKind.BF16,
      i8: ScalarKind.I8,
    }[this.quantization];
    return new Index({
      dimensions: this.dimensions,
      metric: MetricKind.IP,
      quantization,
      connectivity: this.connectivity,
      expansion_add: this.expansionAdd,
      expansion_search: this.expansionSearch,
      multi: false,
    });
  }
}

/** Approximate search with an HNSW graph (see `HnswIndex`). */
export function hnswIndex(options: HnswIndexOptions = {}): (dimensions: number) => VectorIndex {
  // Validate now (a bad option is a configuration error at startup, not at the first call).
  new HnswIndex(8, options);
  return (dimensions) => new HnswIndex(dimensions, options);
}
