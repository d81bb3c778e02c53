import { ConfigError } from '@flowgate/core';
import type { Neighbor, VectorIndex } from '../types.js';

/**
 * Brute force over one `Float32Array` matrix: a search is a dot product with every row (vectors are
 * unit length, so the dot product is the cosine similarity). Exact, no dependency, and the fastest
 * choice for small partitions; linear in the number of entries (see the benchmark for where HNSW wins).
 * Removing swaps the last row into the hole, so rows stay dense.
 */
export class ExactIndex implements VectorIndex {
  readonly kind: string = 'exact';
  private data: Float32Array;
  private ids: number[] = [];
  private readonly rowOf = new Map<number, number>();

  constructor(
    readonly dimensions: number,
    initialCapacity = 64,
  ) {
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new ConfigError(`an index needs a positive integer number of dimensions, got ${String(dimensions)}`);
    }
    this.data = new Float32Array(Math.max(1, initialCapacity) * dimensions);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: number, vector: Float32Array): void {
    const d = this.dimensions;
    if (vector.length !== d) throw new RangeError(`expected a vector of ${d} numbers, got ${vector.length}`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      row = this.ids.length;
      if ((row + 1) * d > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.ids.push(id);
      this.rowOf.set(id, row);
    }
    this.data.set(vector, row * d);
  }

  remove(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const d = this.dimensions;
    const last = this.ids.length - 1;
    if (row !== last) {
      const moved = this.ids[last]!;
      this.data.copyWithin(row * d, last * d, (last + 1) * d);
      this.ids[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.ids.pop();
    this.rowOf.delete(id);
    return true;
  }

  /** The stored vector of `id` (a view: copy it before the index changes). */
  get(id: number): Float32Array | undefined {
    const row = this.rowOf.get(id);
    if (row === undefined) return undefined;
    return this.data.subarray(row * this.dimensions, (row + 1) * this.dimensions);
  }

  /** Exact similarity of `query` to the vector of `id`. */
  similarity(query: Float32Array, id: number): number | undefined {
    const row = this.rowOf.get(id);
    if (row === undefined) return undefined;
    const d = this.dimensions;
    const data = this.data;
    let s = 0;
    for (let j = 0, o = row * d; j < d; j++, o++) s += data[o]! * query[j]!;
    return s;
  }

  search(query: Float32Array, k: number): Neighbor[] {
    const n = this.ids.length;
    if (n === 0 || k <= 0) return [];
    const d = this.dimensions;
    const data = this.data;
    // Top-k by insertion into small sorted arrays: k is a handful.
    const topIds: number[] = [];
    const topSims: number[] = [];
    let floor = Number.NEGATIVE_INFINITY;
    const d4 = d - (d % 4);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      // Four accumulators: independent adds the CPU can run in parallel (about 2x over one).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j < d4; j += 4) {
        s0 += data[o + j]! * query[j]!;
        s1 += data[o + j + 1]! * query[j + 1]!;
        s2 += data[o + j + 2]! * query[j + 2]!;
        s3 += data[o + j + 3]! * query[j + 3]!;
      }
      for (; j < d; j++) s0 += data[o + j]! * query[j]!;
      const s = s0 + s1 + (s2 + s3);
      if (topSims.length === k && s <= floor) continue;
      let i = topSims.length;
      while (i > 0 && topSims[i - 1]! < s) i--;
      topSims.splice(i, 0, s);
      topIds.splice(i, 0, this.ids[r]!);
      if (topSims.length > k) {
        topSims.pop();
        topIds.pop();
      }
      if (topSims.length === k) floor = topSims[k - 1]!;
    }
    return topIds.map((id, i) => ({ id, similarity: topSims[i]! }));
  }

  /** Ids in row order. */
  keys(): readonly number[] {
    return this.ids;
  }
}

/** Brute-force search (see `ExactIndex`). */
export function exactIndex(): (dimensions: number) => VectorIndex {
  return (dimensions) => new ExactIndex(dimensions);
}
