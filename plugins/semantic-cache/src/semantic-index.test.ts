import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexFileError } from './errors.js';
import { exactIndex } from './index/exact.js';
import { hnswIndex } from './index/hnsw.js';
import { vectors } from './index-conformance.test-suite.js';
import { loadIndex, saveIndex } from './persist.js';
import { SemanticIndex } from './semantic-index.js';

const D = 16;
const HOUR = 3_600_000;

describe('partitions', () => {
  it('never returns another partition’s entry, even for the very same vector', () => {
    const index = new SemanticIndex(D, exactIndex(), 100);
    const v = vectors(1, D).random();
    index.add('tenant-a|m', 'key-a', 'q', v, 0, HOUR);
    index.add('tenant-b|m', 'key-b', 'q', v, 0, HOUR);
    expect(index.search('tenant-a|m', v, 4, 1).map((c) => c.entry.key)).toEqual(['key-a']);
    expect(index.search('tenant-b|m', v, 4, 1).map((c) => c.entry.key)).toEqual(['key-b']);
    expect(index.search('tenant-c|m', v, 4, 1)).toEqual([]);
    expect(index.partitionCount).toBe(2);
  });

  it('drops a partition’s vector index when its last entry leaves', () => {
    const index = new SemanticIndex(D, exactIndex(), 100);
    const e = index.add('p', 'k', 'q', vectors(2, D).random(), 0, HOUR);
    index.remove(e.id, 'dead');
    expect(index.partitionCount).toBe(0);
    expect(index.removed.dead).toBe(1);
  });
});

describe('TTL and size bound', () => {
  it('skips and removes expired entries when a search meets them, and sweeps the rest', () => {
    const index = new SemanticIndex(D, exactIndex(), 100);
    const gen = vectors(3, D);
    const v = gen.random();
    index.add('p', 'short', 'q1', v, 0, 1000);
    index.add('p', 'long', 'q2', gen.near(v, 0.2), 0, HOUR);
    expect(index.search('p', v, 4, 999).map((c) => c.entry.key)).toEqual(['short', 'long']);
    expect(index.search('p', v, 4, 1000).map((c) => c.entry.key)).toEqual(['long']);
    expect(index.size).toBe(1);
    expect(index.removed.expired).toBe(1);
    expect(index.sweep(HOUR)).toBe(1);
    expect(index.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const index = new SemanticIndex(D, exactIndex(), 3);
    const gen = vectors(4, D);
    const ids = ['a', 'b', 'c'].map((k) => index.add('p', k, k, gen.random(), 0, HOUR).id);
    index.touch(ids[0]!); // a is used: b is now the oldest
    index.add('p', 'd', 'd', gen.random(), 0, HOUR);
    expect(index.size).toBe(3);
    expect(index.entryByKey('b')).toBeUndefined();
    expect(index.entryByKey('a')).toBeDefined();
    expect(index.removed.evicted).toBe(1);
  });

  it('keeps exact recency order through touches, removals, sweeps and replacements', () => {
    const index = new SemanticIndex(D, exactIndex(), 5);
    const gen = vectors(6, D);
    const order = () => [...index.snapshot()].map(([e]) => e.key);
    const id = (key: string) => index.entryByKey(key)!.id;
    for (const k of ['a', 'b', 'c', 'd', 'e']) index.add('p', k, k, gen.random(), 0, k === 'c' ? 10 : HOUR);
    // One entry touched many times stays one entry, at the recent end.
    for (let i = 0; i < 1000; i++) index.touch(id('b'));
    index.touch(id('a'));
    expect(order()).toEqual(['c', 'd', 'e', 'b', 'a']);
    index.touch(id('a')); // already the most recent: nothing moves
    index.remove(id('d'), 'dead'); // from the middle
    expect(index.sweep(10)).toBe(1); // c, the oldest, expired
    expect(order()).toEqual(['e', 'b', 'a']);
    index.add('p', 'e', 'e again', gen.random(), 0, HOUR); // a replaced key becomes the most recent
    for (const k of ['f', 'g', 'h']) index.add('p', k, k, gen.random(), 0, HOUR);
    // Full at 5: adding h evicted the least recently used, b.
    expect(order()).toEqual(['a', 'e', 'f', 'g', 'h']);
    expect(index.removed).toMatchObject({ evicted: 1, expired: 1, dead: 1, replaced: 1 });
    index.clear();
    expect(order()).toEqual([]);
    index.add('p', 'z', 'z', gen.random(), 0, HOUR);
    expect(order()).toEqual(['z']);
  });

  it('keeps one entry per store key: indexing a key again replaces it', () => {
    const index = new SemanticIndex(D, exactIndex(), 10);
    const gen = vectors(5, D);
    index.add('p', 'k', 'old question', gen.random(), 0, HOUR);
    const v = gen.random();
    index.add('p', 'k', 'new question', v, 0, HOUR);
    expect(index.size).toBe(1);
    expect(index.search('p', v, 4, 1)[0]!.entry.question).toBe('new question');
  });
});

describe('persistence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-semantic-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  for (const [name, factory] of [
    ['exact', exactIndex()],
    ['hnsw', hnswIndex({ exactBelow: 10 })],
  ] as const) {
    it(`round-trips entries, vectors and partitions (${name})`, async () => {
      const path = join(dir, `round-trip-${name}.idx`);
      const gen = vectors(6, D);
      const before = new SemanticIndex(D, factory, 1000);
      const stored: [string, string, Float32Array][] = [];
      for (let i = 0; i < 50; i++) {
        const partition = `tenant-${i % 3}|model`;
        const v = gen.random();
        stored.push([partition, `key-${i}`, v]);
        before.add(partition, `key-${i}`, `question ${i} “ünïcode”`, v, 1000 + i, HOUR + i);
      }
      expect(await saveIndex(path, before, 'emb/16', 2000)).toBe(50);

      const after = new SemanticIndex(D, factory, 1000);
      expect(await loadIndex(path, after, 'emb/16', 2000)).toEqual({ loaded: 50, expired: 0 });
      expect(after.size).toBe(50);
      expect(after.partitionCount).toBe(3);
      for (const [partition, key, v] of stored) {
        const [best] = after.search(partition, v, 1, 2000);
        expect(best!.entry.key).toBe(key);
        expect(best!.similarity).toBeCloseTo(1, 5);
        const e = after.entryByKey(key)!;
        expect(e.question).toMatch(/^question \d+ “ünïcode”$/);
        expect(e.expiresAt - e.addedAt).toBe(HOUR - 1000);
      }
      // The least recently used order survives: the first entry is evicted first.
      expect([...after.snapshot()][0]![0].key).toBe('key-0');
    });
  }

  it('leaves out entries that expired while on disk', async () => {
    const path = join(dir, 'expired.idx');
    const index = new SemanticIndex(D, exactIndex(), 10);
    const gen = vectors(7, D);
    index.add('p', 'soon', 'q', gen.random(), 0, 5000);
    index.add('p', 'later', 'q', gen.random(), 0, HOUR);
    await saveIndex(path, index, 'emb', 1000);
    const loaded = new SemanticIndex(D, exactIndex(), 10);
    expect(await loadIndex(path, loaded, 'emb', 6000)).toEqual({ loaded: 1, expired: 1 });
    expect(loaded.entryByKey('later')).toBeDefined();
  });

  it('resolves undefined without a file, and refuses another embedder’s or a corrupt file', async () => {
    const index = new SemanticIndex(D, exactIndex(), 10);
    expect(await loadIndex(join(dir, 'none.idx'), index, 'emb', 0)).toBeUndefined();
    const path = join(dir, 'other.idx');
    index.add('p', 'k', 'q', vectors(8, D).random(), 0, HOUR);
    await saveIndex(path, index, 'emb-a', 0);
    const other = new SemanticIndex(D, exactIndex(), 10);
    await expect(loadIndex(path, other, 'emb-b', 0)).rejects.toThrow(IndexFileError);
    await expect(loadIndex(path, new SemanticIndex(8, exactIndex(), 10), 'emb-a', 0)).rejects.toThrow(/dimensions/);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 3));
    await expect(loadIndex(path, other, 'emb-a', 0)).rejects.toThrow(/truncated/);
    await writeFile(path, 'not an index');
    await expect(loadIndex(path, other, 'emb-a', 0)).rejects.toMatchObject({
      code: 'FLOWGATE_ERR_SEMANTIC_INDEX_FILE',
    });
    expect(other.size).toBe(0);
  });
});
