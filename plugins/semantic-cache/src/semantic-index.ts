import { type RecencyLinks, RecencyList } from '@flowgate/core';
import type { IndexFactory, VectorIndex } from './types.js';

/** One indexed question: where its answer lives in the exact cache's store, and until when. */
export interface IndexEntry {
  readonly id: number;
  readonly partition: string;
  /** Store key of the answer (the exact cache's key of the question). */
  readonly key: string;
  /** The question, kept for the guards (and persisted with the index). */
  readonly question: string;
  /** Clock time it was indexed, ms. */
  readonly addedAt: number;
  /** Clock time its answer expires from the store (its TTL as the exact cache stored it), ms. */
  readonly expiresAt: number;
}

export interface Candidate {
  entry: IndexEntry;
  similarity: number;
}

/** Why an entry left the index: for the stats. */
export type Removal = 'evicted' | 'expired' | 'dead' | 'replaced' | 'cleared';

/** An entry in the recency list. */
interface Slot extends RecencyLinks<Slot> {
  readonly entry: IndexEntry;
}

/**
 * The entries of every partition, and one vector index per partition: a search only ever sees the
 * partition it names, so a hit cannot cross tenants, models or system prompts. Bounded by `maxEntries`
 * (least recently used first out); expired entries leave as soon as a search sees them, or at the
 * next sweep.
 * Recency is a `RecencyList` beside the `Map`: a hit moves its slot and leaves the `Map` alone.
 */
export class SemanticIndex {
  private readonly entries = new Map<number, Slot>();
  private readonly recency = new RecencyList<Slot>();
  private readonly byKey = new Map<string, number>();
  private readonly partitions = new Map<string, VectorIndex>();
  private nextId = 1;
  readonly removed: Record<Removal, number> = { evicted: 0, expired: 0, dead: 0, replaced: 0, cleared: 0 };

  constructor(
    readonly dimensions: number,
    private readonly factory: IndexFactory,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  /** Indexes a question; a question already indexed under the same store key is replaced. */
  add(
    partition: string,
    key: string,
    question: string,
    vector: Float32Array,
    addedAt: number,
    expiresAt: number,
  ): IndexEntry {
    const existing = this.byKey.get(key);
    if (existing !== undefined) this.remove(existing, 'replaced');
    while (this.entries.size >= this.maxEntries) {
      const lru = this.recency.oldest;
      if (lru === undefined) break;
      this.remove(lru.entry.id, 'evicted');
    }
    let index = this.partitions.get(partition);
    if (index === undefined) {
      index = this.factory(this.dimensions);
      this.partitions.set(partition, index);
    }
    const entry: IndexEntry = { id: this.nextId++, partition, key, question, addedAt, expiresAt };
    index.add(entry.id, vector);
    const slot: Slot = { entry, older: undefined, newer: undefined };
    this.entries.set(entry.id, slot);
    this.recency.append(slot);
    this.byKey.set(key, entry.id);
    return entry;
  }

  /**
   * Up to `k` live entries of `partition`, most similar first. Expired entries met on the way are
   * removed (and the search looks a little further).
   */
  search(partition: string, vector: Float32Array, k: number, now: number): Candidate[] {
    const index = this.partitions.get(partition);
    if (index === undefined || index.size === 0) return [];
    const out: Candidate[] = [];
    for (const n of index.search(vector, k + 2)) {
      const entry = this.entries.get(n.id)?.entry;
      if (entry === undefined) continue;
      if (entry.expiresAt <= now) {
        this.remove(entry.id, 'expired');
        continue;
      }
      out.push({ entry, similarity: n.similarity });
      if (out.length === k) break;
    }
    return out;
  }

  /** Marks an entry as just used: it leaves last when the index is full. */
  touch(id: number): void {
    const slot = this.entries.get(id);
    if (slot !== undefined) this.recency.touch(slot);
  }

  remove(id: number, why: Removal): boolean {
    const slot = this.entries.get(id);
    if (slot === undefined) return false;
    const entry = slot.entry;
    this.entries.delete(id);
    this.recency.unlink(slot);
    if (this.byKey.get(entry.key) === id) this.byKey.delete(entry.key);
    const index = this.partitions.get(entry.partition);
    if (index !== undefined) {
      index.remove(id);
      if (index.size === 0) {
        index.dispose?.();
        this.partitions.delete(entry.partition);
      }
    }
    this.removed[why]++;
    return true;
  }

  /** Removes every expired entry; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (let slot = this.recency.oldest; slot !== undefined; ) {
      const next = slot.newer;
      if (slot.entry.expiresAt <= now && this.remove(slot.entry.id, 'expired')) n++;
      slot = next;
    }
    return n;
  }

  clear(): void {
    for (const index of this.partitions.values()) index.dispose?.();
    this.removed.cleared += this.entries.size;
    this.entries.clear();
    this.recency.clear();
    this.byKey.clear();
    this.partitions.clear();
  }

  /** Every entry with its vector, least recently used first (the order a reload restores). */
  *snapshot(): Generator<[IndexEntry, Float32Array]> {
    for (let slot = this.recency.oldest; slot !== undefined; slot = slot.newer) {
      const { entry } = slot;
      const v = this.partitions.get(entry.partition)?.get(entry.id);
      if (v !== undefined) yield [entry, v];
    }
  }

  entryByKey(key: string): IndexEntry | undefined {
    const id = this.byKey.get(key);
    return id === undefined ? undefined : this.entries.get(id)?.entry;
  }
}
