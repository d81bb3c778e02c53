import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/support/prng.js';
import { LruMap } from './lru-map.js';

/** A plainly correct LRU to compare with: an array, most recent last. */
class ReferenceLru {
  keys: string[] = [];
  evicted = 0;
  constructor(private readonly max: number) {}
  read(key: string): boolean {
    const i = this.keys.indexOf(key);
    if (i < 0) return false;
    this.keys.splice(i, 1);
    this.keys.push(key);
    return true;
  }
  write(key: string): void {
    const i = this.keys.indexOf(key);
    if (i >= 0) this.keys.splice(i, 1);
    this.keys.push(key);
    while (this.keys.length > this.max) {
      this.keys.shift();
      this.evicted++;
    }
  }
  delete(key: string): boolean {
    const i = this.keys.indexOf(key);
    if (i >= 0) this.keys.splice(i, 1);
    return i >= 0;
  }
}

describe('LruMap', () => {
  it('evicts exactly what a reference LRU evicts, over long runs of reads, writes, deletes and clears', () => {
    const max = 50;
    const lru = new LruMap(max, Number.MAX_SAFE_INTEGER);
    const ref = new ReferenceLru(max);
    const random = seededRandom(7);
    let clears = 0;
    for (let step = 0; step < 60_000; step++) {
      // Keys from a range a little larger than the bound, so that reads hit, writes evict, and V8's map
      // table fills with the holes deletions leave (the case the long-lived eviction iterator is for).
      const key = `k${Math.floor(random() * 80)}`;
      const op = random();
      if (op < 0.45) expect(lru.read(key) !== undefined).toBe(ref.read(key));
      else if (op < 0.9) {
        lru.write(key, key, undefined);
        ref.write(key);
      } else if (op < 0.9995) expect(lru.delete(key)).toBe(ref.delete(key));
      else {
        lru.clear();
        ref.keys = [];
        clears++;
      }
      if (step % 997 === 0) expect(lru.usage().entries).toBe(ref.keys.length);
    }
    expect(clears).toBeGreaterThan(0);
    expect(lru.usage().evictions).toBe(ref.evicted);
    for (const key of ref.keys) expect(lru.read(key)).toBe(key);
  });

  it('evicts by bytes from the least recently used, and starts over once emptied', () => {
    const lru = new LruMap(100, 30);
    lru.write('a', 'x'.repeat(9), undefined); // 10 bytes with its key
    lru.write('b', 'x'.repeat(9), undefined);
    lru.read('a'); // b is now the least recently used
    lru.write('c', 'x'.repeat(19), undefined); // 20 bytes: b must go
    expect(lru.read('b')).toBeUndefined();
    expect(lru.read('a')).toBeDefined();
    lru.write('d', 'x'.repeat(29), undefined); // 30 bytes: everything else goes
    expect(lru.usage()).toMatchObject({ entries: 1, bytes: 30 });
    expect(lru.delete('d')).toBe(true);
    lru.write('e', 'x'.repeat(19), undefined);
    lru.write('f', 'x'.repeat(19), undefined); // the map was emptied once: e is still the oldest
    expect(lru.read('e')).toBeUndefined();
    expect(lru.read('f')).toBeDefined();
  });
});
