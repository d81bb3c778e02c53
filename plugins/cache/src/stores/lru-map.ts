import type { StoreUsage } from '../types.js';
import { globToRegExp } from './pattern.js';

interface Slot {
  value: string;
  /** ms since epoch; 0 = never. */
  expires: number;
  bytes: number;
}

/**
 * Serialized values by key, bounded by entries and by bytes, least recently used evicted first. A
 * `Map` iterates in insertion order, so a read re-inserts its key at the end and eviction takes from
 * the front.
 *
 * The front is read through one long-lived key iterator, not `map.keys().next()` per eviction: V8
 * leaves a hole for every deleted entry until the table is rehashed, and a fresh iterator walks over
 * all of them (thousands in a full store that keeps evicting: most of a miss's cost). Every live key
 * is at or after the iterator's position, since keys only ever move to the end, and the iterator only
 * advances past the key it just evicted.
 */
export class LruMap {
  private readonly map = new Map<string, Slot>();
  private front: MapIterator<string> = this.map.keys();
  private totalBytes = 0;
  private evicted = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  /** The value, or undefined; a hit becomes the most recently used. */
  read(key: string): string | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (slot.expires !== 0 && slot.expires <= Date.now()) {
      this.remove(key, slot);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  /** Stores `value`; false when it alone exceeds the byte bound (it is then not kept). */
  write(key: string, value: string, ttlMs: number | undefined): boolean {
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(value);
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old);
    if (bytes > this.maxBytes) return false;
    const expires = ttlMs !== undefined && ttlMs > 0 ? Date.now() + ttlMs : 0;
    this.map.set(key, { value, expires, bytes });
    this.totalBytes += bytes;
    while (this.map.size > this.maxEntries || this.totalBytes > this.maxBytes) {
      const oldest = this.oldest();
      if (oldest === undefined) break;
      this.remove(oldest, this.map.get(oldest)!);
      this.evicted++;
    }
    return true;
  }

  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    this.remove(key, slot);
    return true;
  }

  deleteMatching(pattern: string): number {
    const re = globToRegExp(pattern);
    let n = 0;
    for (const [key, slot] of this.map) {
      if (re.test(key)) {
        this.remove(key, slot);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.map.clear();
    this.front = this.map.keys();
    this.totalBytes = 0;
  }

  usage(): StoreUsage {
    return { entries: this.map.size, bytes: this.totalBytes, evictions: this.evicted };
  }

  /** The least recently used key. */
  private oldest(): string | undefined {
    let next = this.front.next();
    if (next.done) {
      // An iterator that reached its end stays there: start over (defensive; the eviction loop never
      // empties the map, and an iterator that has not reached its end sees later insertions).
      this.front = this.map.keys();
      next = this.front.next();
    }
    return next.done ? undefined : next.value;
  }

  private remove(key: string, slot: Slot): void {
    this.map.delete(key);
    this.totalBytes -= slot.bytes;
  }
}
