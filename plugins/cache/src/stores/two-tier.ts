import { ConfigError } from '@flowgate/core';
import type { CacheEntry, CacheStore, StoreUsage } from '../types.js';
import { type MemoryStoreOptions, memoryStore, positiveInteger } from './memory.js';

export interface TwoTierStoreOptions {
  /** The shared store behind (typically `redisStore()`). */
  back: CacheStore;
  /** The in-process store in front: options for a `memoryStore`, or a local store (default `memoryStore()`). */
  front?: MemoryStoreOptions | CacheStore;
  /**
   * Longest an entry stays in the front, ms (default 30,000). This bounds how long another
   * instance's invalidation can go unseen here: invalidations clear both tiers of this instance
   * only, and other instances' fronts expire within this time.
   */
  frontTtlMs?: number;
  /** Name in metrics and meta (default `two-tier`). */
  name?: string;
}

function isStore(x: MemoryStoreOptions | CacheStore | undefined): x is CacheStore {
  return x !== undefined && typeof (x as CacheStore).get === 'function';
}

/**
 * Memory in front of a shared store: reads try the front first and fill it from the back; writes go
 * to both. A hit in the front costs no network round trip.
 */
export function twoTierStore(options: TwoTierStoreOptions): CacheStore {
  if (!options || !isStore(options.back)) throw new ConfigError('twoTierStore needs a `back` store');
  const back = options.back;
  const front = isStore(options.front) ? options.front : memoryStore(options.front);
  if (!front.local) throw new ConfigError('twoTierStore `front` must be a local (in-process) store');
  const frontTtlMs = positiveInteger(options.frontTtlMs ?? 30_000, 'twoTierStore frontTtlMs');

  return {
    name: options.name ?? 'two-tier',
    local: false,
    async get(key: string): Promise<CacheEntry | undefined> {
      const near = await front.get(key);
      if (near !== undefined) return near;
      const far = await back.get(key);
      if (far !== undefined) {
        const left = far.storedAt + far.ttlMs - Date.now();
        if (left > 0) await front.set(key, far, Math.min(left, frontTtlMs));
      }
      return far;
    },
    async set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
      // Both writes start now (each serializes synchronously); the back decides the outcome.
      const [, stored] = await Promise.all([
        front.set(key, entry, Math.min(ttlMs, frontTtlMs)),
        back.set(key, entry, ttlMs),
      ]);
      return stored;
    },
    async delete(key: string): Promise<boolean> {
      const [a, b] = await Promise.all([front.delete(key), back.delete(key)]);
      return a || b;
    },
    async deleteMatching(pattern: string): Promise<number> {
      const [, n] = await Promise.all([front.deleteMatching(pattern), back.deleteMatching(pattern)]);
      return n;
    },
    async clear(): Promise<void> {
      await Promise.all([front.clear(), back.clear()]);
    },
    usage(): StoreUsage | undefined {
      return front.usage?.();
    },
    async ready(): Promise<void> {
      await Promise.all([front.ready?.(), back.ready?.()]);
    },
    async close(): Promise<void> {
      await Promise.all([front.close(), back.close()]);
    },
  };
}
