import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@flowgate/core';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithRedis, REDIS_URL } from '../../../test/support/redis.js';
import { CacheUnsupportedError } from './errors.js';
import { entry, storeConformance } from './store-conformance.test-suite.js';
import { keyvStore } from './stores/keyv-store.js';
import { memoryStore } from './stores/memory.js';
import { redisStore } from './stores/redis.js';
import { sqliteStore } from './stores/sqlite.js';
import { twoTierStore } from './stores/two-tier.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HOUR = 3_600_000;
const contentOf = (e: { response: { choices: { message: { content: string | null } }[] } } | undefined) =>
  e?.response.choices[0]?.message.content;

storeConformance('memory', () => memoryStore());
storeConformance('sqlite', () => sqliteStore({ path: join(dir, 'conformance.sqlite') }), {
  createNeighbour: () => sqliteStore({ path: join(dir, 'conformance.sqlite'), namespace: 'neighbour' }),
});
storeConformance('keyv (any adapter: keyv over a Map)', () => keyvStore(new Keyv()));

describeWithRedis('Redis stores', () => {
  const ns = `flowgate-test:${randomUUID()}`;
  storeConformance('redis', () => redisStore({ url: REDIS_URL, namespace: ns }), {
    createNeighbour: () => redisStore({ url: REDIS_URL, namespace: `${ns}:neighbour` }),
  });
  storeConformance('two-tier (memory in front of redis)', () =>
    twoTierStore({ back: redisStore({ url: REDIS_URL, namespace: `${ns}:two-tier` }) }),
  );

  it('keeps its keys under `{namespace}::`', async () => {
    const store = redisStore({ url: REDIS_URL, namespace: `${ns}:layout` });
    await store.ready?.();
    try {
      await store.set('v1:t.a:-:m:-:h', entry('x'), HOUR);
      expect(await store.client.keys(`${ns}:layout::*`)).toEqual([`${ns}:layout::v1:t.a:-:m:-:h`]);
      expect(await store.client.pTTL(`${ns}:layout::v1:t.a:-:m:-:h`)).toBeGreaterThan(HOUR - 60_000);
    } finally {
      await store.clear();
      await store.close();
    }
  });

  it('two-tier: a hit in the back fills the front, which then answers alone', async () => {
    const back = redisStore({ url: REDIS_URL, namespace: `${ns}:fill` });
    const writer = redisStore({ url: REDIS_URL, namespace: `${ns}:fill` });
    const front = memoryStore();
    const store = twoTierStore({ back, front });
    await Promise.all([store.ready?.(), writer.ready?.()]);
    try {
      await writer.set('v1:-:-:m:-:f', entry('from another instance', { storedAt: Date.now() }), HOUR);
      expect(await front.get('v1:-:-:m:-:f')).toBeUndefined();
      expect(contentOf(await store.get('v1:-:-:m:-:f'))).toBe('from another instance');
      expect(contentOf(await front.get('v1:-:-:m:-:f'))).toBe('from another instance');
      await writer.delete('v1:-:-:m:-:f');
      // Served from the front, within frontTtlMs, although the back no longer has it.
      expect(contentOf(await store.get('v1:-:-:m:-:f'))).toBe('from another instance');
    } finally {
      await store.clear();
      await store.close();
      await writer.close();
    }
  });
});

describe('memory store bounds', () => {
  it('evicts the least recently used entry beyond maxEntries; a read makes an entry recent', async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await store.set(k, entry(k), HOUR);
    expect(contentOf(await store.get('a'))).toBe('a'); // a is now the most recent; b the least
    await store.set('d', entry('d'), HOUR);
    expect(await store.get('b')).toBeUndefined();
    expect((await Promise.all(['a', 'c', 'd'].map((k) => store.get(k)))).map(contentOf)).toEqual(['a', 'c', 'd']);
    expect(store.usage?.()).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('evicts by bytes, counts them, and declines an entry larger than the bound', async () => {
    const one = Buffer.byteLength(JSON.stringify({ value: entry('x'.repeat(1000)), expires: Date.now() + HOUR }));
    const store = memoryStore({ maxBytes: one * 2 + 100 });
    await store.set('k1', entry('x'.repeat(1000)), HOUR);
    await store.set('k2', entry('y'.repeat(1000)), HOUR);
    await store.set('k3', entry('z'.repeat(1000)), HOUR);
    expect(await store.get('k1')).toBeUndefined();
    const usage = store.usage!()!;
    expect(usage.entries).toBe(2);
    expect(usage.evictions).toBe(1);
    expect(usage.bytes).toBeLessThanOrEqual(one * 2 + 100);
    expect(await store.set('huge', entry('h'.repeat(one * 3)), HOUR)).toBe(false);
    expect(await store.get('huge')).toBeUndefined();
    expect(store.usage?.()?.entries).toBe(2);
  });

  it('rejects bad bounds with a ConfigError', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => memoryStore({ maxBytes: 1.5 })).toThrow(ConfigError);
  });
});

describe('sqlite store', () => {
  it('persists across reopening the file', async () => {
    const path = join(dir, 'persist.sqlite');
    const first = sqliteStore({ path });
    await first.set('v1:-:-:m:-:p', entry('persisted'), HOUR);
    await first.close();
    const second = sqliteStore({ path });
    try {
      expect(contentOf(await second.get('v1:-:-:m:-:p'))).toBe('persisted');
      expect(second.usage?.()?.entries).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('rejects a missing path or an unsafe table name with a ConfigError', () => {
    expect(() => sqliteStore({ path: '' })).toThrow(ConfigError);
    expect(() => sqliteStore({ path: ':memory:', table: 'x"; DROP TABLE y; --' })).toThrow(ConfigError);
  });
});

describe('keyv store', () => {
  it('says clearly when its adapter cannot delete by pattern', async () => {
    const adapter = new Map<string, unknown>();
    const plain: KeyvStoreAdapter = {
      get: async <Value>(k: string) => adapter.get(k) as Value | undefined,
      set: async (k: string, v: unknown) => void adapter.set(k, v),
      delete: async (k: string) => adapter.delete(k),
      clear: async () => adapter.clear(),
      on: () => plain,
      opts: {},
    };
    const store = keyvStore(new Keyv(plain));
    await store.set('v1:-:-:m:-:x', entry('x'), HOUR);
    expect(contentOf(await store.get('v1:-:-:m:-:x'))).toBe('x');
    await expect(store.deleteMatching('v1:*')).rejects.toBeInstanceOf(CacheUnsupportedError);
  });
});

describe('redis store configuration', () => {
  it('rejects a bad URL or namespace with a ConfigError, before connecting', () => {
    expect(() => redisStore({ url: 'http://127.0.0.1:6379' })).toThrow(ConfigError);
    expect(() => redisStore({ url: 'not a url' })).toThrow(ConfigError);
    expect(() => redisStore({ namespace: '' })).toThrow(ConfigError);
    expect(() => redisStore({ connectTimeoutMs: 0 })).toThrow(ConfigError);
  });
});
