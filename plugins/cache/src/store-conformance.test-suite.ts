/**
 * The store conformance suite: every cache store (memory, SQLite, Redis, two-tier, any keyv
 * adapter) runs it. A new store passes by calling `storeConformance(name, create)`.
 */
import type { ChatCompletion } from '@flowgate/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidCachePatternError } from './errors.js';
import type { CacheEntry, CacheStore } from './types.js';

export function entry(content: string, extra: Partial<CacheEntry> = {}): CacheEntry {
  const response: ChatCompletion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
  };
  return { response, storedAt: 1_700_000_000_000, ttlMs: 60_000, kind: 'default', ...extra };
}

const contentOf = (e: CacheEntry | undefined) => e?.response.choices[0]?.message.content;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

export interface ConformanceOptions {
  /** A second store on the same backend in another namespace, for isolation checks. */
  createNeighbour?: () => CacheStore | Promise<CacheStore>;
}

export function storeConformance(
  name: string,
  create: () => CacheStore | Promise<CacheStore>,
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}`, () => {
    let store: CacheStore;
    beforeEach(async () => {
      store = await create();
      await store.ready?.();
      await store.clear();
    });
    afterEach(async () => {
      await store.clear();
      await store.close();
    });

    it('misses a key it never stored, then round-trips an entry', async () => {
      expect(await store.get('v1:-:-:m:-:missing')).toBeUndefined();
      const e = entry('Paris is the capital of France.', { kind: 'factual', ttlMs: HOUR });
      expect(await store.set('v1:-:-:m:-:a', e, HOUR)).toBe(true);
      expect(await store.get('v1:-:-:m:-:a')).toEqual(e);
    });

    it('hands out copies: changing what get() returned does not change the entry', async () => {
      const e = entry('original');
      await store.set('v1:-:-:m:-:copy', e, HOUR);
      e.response.choices[0]!.message.content = 'changed after set';
      const first = await store.get('v1:-:-:m:-:copy');
      expect(contentOf(first)).toBe('original');
      first!.response.choices[0]!.message.content = 'changed after get';
      expect(contentOf(await store.get('v1:-:-:m:-:copy'))).toBe('original');
    });

    it('expires an entry after its TTL and keeps the others', async () => {
      // The TTL leaves room for a loaded machine between the write and the first read.
      await store.set('v1:-:-:m:-:short', entry('short-lived'), 150);
      await store.set('v1:-:-:m:-:long', entry('long-lived'), HOUR);
      expect(contentOf(await store.get('v1:-:-:m:-:short'))).toBe('short-lived');
      await sleep(400);
      expect(await store.get('v1:-:-:m:-:short')).toBeUndefined();
      expect(contentOf(await store.get('v1:-:-:m:-:long'))).toBe('long-lived');
    });

    it('stores large values whole', async () => {
      const big = 'lorem ipsum dolor sit amet '.repeat(80_000); // ~2 MB
      await store.set('v1:-:-:m:-:big', entry(big), HOUR);
      const back = await store.get('v1:-:-:m:-:big');
      expect(contentOf(back)?.length).toBe(big.length);
      expect(contentOf(back)).toBe(big);
    });

    it('keeps unicode intact (emoji, CJK, RTL, combining marks, lone surrogates)', async () => {
      const text = 'Grüße 👋🏽 東京 — مرحبا — é (e\u0301) — \uD83D alone — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
      await store.set('v1:t.%6771%4EAC:-:m:-:uni', entry(text), HOUR);
      expect(contentOf(await store.get('v1:t.%6771%4EAC:-:m:-:uni'))).toBe(text);
    });

    it('survives concurrent writers: one key ends whole, distinct keys all land', async () => {
      const writers = Array.from({ length: 50 }, (_, i) => store.set('v1:-:-:m:-:same', entry(`writer ${i}`), HOUR));
      const many = Array.from({ length: 200 }, (_, i) => store.set(`v1:-:-:m:-:k${i}`, entry(`value ${i}`), HOUR));
      await Promise.all([...writers, ...many]);
      expect(contentOf(await store.get('v1:-:-:m:-:same'))).toMatch(/^writer (\d|[1-4]\d)$/);
      const values = await Promise.all(Array.from({ length: 200 }, (_, i) => store.get(`v1:-:-:m:-:k${i}`)));
      expect(values.map(contentOf)).toEqual(Array.from({ length: 200 }, (_, i) => `value ${i}`));
    });

    it('deletes one key and says whether it was there', async () => {
      await store.set('v1:-:-:m:-:del', entry('x'), HOUR);
      expect(await store.delete('v1:-:-:m:-:del')).toBe(true);
      expect(await store.get('v1:-:-:m:-:del')).toBeUndefined();
      expect(await store.delete('v1:-:-:m:-:del')).toBe(false);
    });

    it('clears every entry', async () => {
      for (let i = 0; i < 5; i++) await store.set(`v1:t.a:-:m:-:c${i}`, entry(`c${i}`), HOUR);
      await store.clear();
      for (let i = 0; i < 5; i++) expect(await store.get(`v1:t.a:-:m:-:c${i}`)).toBeUndefined();
    });

    it('invalidates by pattern (* and ?), and only what matches', async () => {
      const keys = [
        'v1:t.a:-:gpt-4o:-:h1',
        'v1:t.a:-:gpt-4o-mini:p.faq:h2',
        'v1:t.a:u.bob:gpt-4o:-:h3',
        'v1:t.b:-:gpt-4o:-:h4',
        'v1:-:-:gpt-4o:-:h5',
      ];
      for (const k of keys) await store.set(k, entry(k), HOUR);
      expect(await store.deleteMatching('v1:t.a:*')).toBe(3);
      expect(await store.get(keys[0]!)).toBeUndefined();
      expect(await store.get(keys[2]!)).toBeUndefined();
      expect(contentOf(await store.get(keys[3]!))).toBe(keys[3]);
      expect(await store.deleteMatching('v1:t.?:-:gpt-4o:-:*')).toBe(1);
      expect(await store.get(keys[3]!)).toBeUndefined();
      expect(contentOf(await store.get(keys[4]!))).toBe(keys[4]);
      expect(await store.deleteMatching('v1:nothing:*')).toBe(0);
    });

    it('refuses a pattern with characters the backends read differently', async () => {
      await expect(store.deleteMatching('v1:[ab]:*')).rejects.toBeInstanceOf(InvalidCachePatternError);
      await expect(store.deleteMatching('')).rejects.toBeInstanceOf(InvalidCachePatternError);
    });

    if (options.createNeighbour) {
      const createNeighbour = options.createNeighbour;
      it('clear and pattern deletes stay inside the namespace', async () => {
        const other = await createNeighbour();
        await other.ready?.();
        try {
          await other.set('v1:t.a:-:m:-:n', entry('neighbour'), HOUR);
          await store.set('v1:t.a:-:m:-:n', entry('mine'), HOUR);
          expect(contentOf(await store.get('v1:t.a:-:m:-:n'))).toBe('mine');
          expect(await store.deleteMatching('v1:*')).toBe(1);
          await store.set('v1:t.a:-:m:-:n', entry('mine again'), HOUR);
          await store.clear();
          expect(contentOf(await other.get('v1:t.a:-:m:-:n'))).toBe('neighbour');
        } finally {
          await other.clear();
          await other.close();
        }
      });
    }
  });
}
