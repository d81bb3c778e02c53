import { ConfigError } from '@flowgate/core';
import type { CacheEntry, CacheStore, StoreUsage } from '../types.js';
import { LruMap } from './lru-map.js';
import { assertPattern } from './pattern.js';

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** Most bytes kept (UTF-8 size of keys and serialized values; default 64 MiB). */
  maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

const NOTHING: Promise<undefined> = Promise.resolve(undefined);
const STORED: Promise<boolean> = Promise.resolve(true);
const DECLINED: Promise<boolean> = Promise.resolve(false);

export function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * The in-process store: entries serialized (`JSON.stringify`) in an LRU `Map` bounded by entries and
 * bytes. It works on the map directly rather than through a keyv instance: keyv adds two awaits,
 * hooks and an envelope object to every lookup, a third of what a miss costs here. Everything is
 * synchronous underneath; failures (an entry JSON cannot serialize) still reject, as the store
 * contract says.
 */
class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly local = true;

  constructor(private readonly lru: LruMap) {}

  get(key: string): Promise<CacheEntry | undefined> {
    const raw = this.lru.read(key);
    if (raw === undefined) return NOTHING;
    try {
      // A fresh copy per hit: the caller may change what it gets.
      return Promise.resolve(JSON.parse(raw) as CacheEntry);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    let value: string;
    try {
      // Serialized now, before returning: a caller that later changes the response cannot alter the entry.
      value = JSON.stringify(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.lru.write(key, value, ttlMs) ? STORED : DECLINED;
  }

  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.lru.delete(key));
  }

  async deleteMatching(pattern: string): Promise<number> {
    assertPattern(pattern);
    return this.lru.deleteMatching(pattern);
  }

  async clear(): Promise<void> {
    this.lru.clear();
  }

  usage(): StoreUsage {
    return this.lru.usage();
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}

/**
 * In-process store: an LRU `Map` bounded by entries and bytes. Values are kept serialized, so every
 * hit is a fresh copy and the byte bound measures what is really held.
 */
export function memoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const maxEntries = positiveInteger(options.maxEntries ?? DEFAULT_MAX_ENTRIES, 'memoryStore maxEntries');
  const maxBytes = positiveInteger(options.maxBytes ?? DEFAULT_MAX_BYTES, 'memoryStore maxBytes');
  return new MemoryStore(new LruMap(maxEntries, maxBytes));
}
