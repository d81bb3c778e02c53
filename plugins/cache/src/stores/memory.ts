import { EventEmitter } from 'node:events';
import { ConfigError } from '@flowgate/core';
import type { StoredData } from 'keyv';
import type { CacheStore, StoreUsage } from '../types.js';
import { createKeyv, KeyvCacheStore } from './keyv-store.js';
import { globToRegExp } from './pattern.js';

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** Most bytes kept (UTF-8 size of keys and serialized values; default 64 MiB). */
  maxBytes?: number;
}

interface Slot {
  value: string;
  /** ms since epoch; 0 = never. */
  expires: number;
  bytes: number;
}

/**
 * A keyv store adapter on a `Map`, bounded by entries and by bytes, least recently used evicted
 * first. A `Map` iterates in insertion order, so a read re-inserts its key at the end and eviction
 * takes from the front: O(1) for both.
 */
export class LruMapAdapter extends EventEmitter {
  readonly opts: { dialect: 'memory'; maxEntries: number; maxBytes: number };
  /** Set by keyv; this adapter is its own namespace. */
  namespace: string | undefined;
  private readonly map = new Map<string, Slot>();
  private totalBytes = 0;
  private evicted = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {
    super();
    this.opts = { dialect: 'memory', maxEntries, maxBytes };
  }

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
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value, this.map.get(oldest.value)!);
      this.evicted++;
    }
    return true;
  }

  private remove(key: string, slot: Slot): void {
    this.map.delete(key);
    this.totalBytes -= slot.bytes;
  }

  // ---- the keyv adapter contract -----------------------------------------------------------

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.read(key) as StoredData<Value> | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    return this.write(key, typeof value === 'string' ? value : JSON.stringify(value), ttl);
  }

  async delete(key: string): Promise<boolean> {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    this.remove(key, slot);
    return true;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    let any = false;
    for (const key of keys) if (await this.delete(key)) any = true;
    return any;
  }

  async has(key: string): Promise<boolean> {
    const slot = this.map.get(key);
    return slot !== undefined && (slot.expires === 0 || slot.expires > Date.now());
  }

  async clear(): Promise<void> {
    this.map.clear();
    this.totalBytes = 0;
  }

  // ---- extensions --------------------------------------------------------------------------

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

  usage(): StoreUsage {
    return { entries: this.map.size, bytes: this.totalBytes, evictions: this.evicted };
  }
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * In-process store: a keyv instance over an LRU `Map` bounded by entries and bytes. Values are kept
 * serialized, so every hit is a fresh copy and the byte bound measures what is really held.
 */
export function memoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const maxEntries = positiveInteger(options.maxEntries ?? DEFAULT_MAX_ENTRIES, 'memoryStore maxEntries');
  const maxBytes = positiveInteger(options.maxBytes ?? DEFAULT_MAX_BYTES, 'memoryStore maxBytes');
  const adapter = new LruMapAdapter(maxEntries, maxBytes);
  const store = new KeyvCacheStore(createKeyv(adapter, undefined), {
    name: 'memory',
    local: true,
    deleteMatching: async (pattern) => adapter.deleteMatching(pattern),
    clear: () => adapter.clear(),
    usage: () => adapter.usage(),
    close: () => adapter.clear(),
  });
  return store;
}
