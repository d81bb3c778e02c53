import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { CacheUnsupportedError } from '../errors.js';
import type { CacheEntry, CacheStore, StoreUsage } from '../types.js';
import { assertPattern, globToRegExp } from './pattern.js';

/** What a built-in store adds to its keyv instance. */
export interface StoreExtensions {
  name: string;
  local: boolean;
  deleteMatching?(pattern: string): Promise<number>;
  clear?(): Promise<void>;
  usage?(): StoreUsage | undefined;
  ready?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A keyv instance for the built-in stores: keys are used as given (the plugin builds them, the
 * adapter namespaces them), values are plain JSON (`JSON.stringify`/`JSON.parse` instead of keyv's
 * default serializer, which walks every value in JavaScript and revives strings one by one), and
 * failures throw so that the plugin can count them (keyv swallows a failed `get` otherwise).
 */
export function createKeyv(adapter: KeyvStoreAdapter, namespace: string | undefined): Keyv<CacheEntry> {
  return new Keyv<CacheEntry>(adapter, {
    namespace,
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: JSON.stringify,
    deserialize: JSON.parse,
  });
}

/** A `CacheStore` over a keyv instance. */
export class KeyvCacheStore implements CacheStore {
  readonly name: string;
  readonly local: boolean;

  constructor(
    readonly keyv: Keyv<CacheEntry>,
    private readonly ext: StoreExtensions,
  ) {
    this.name = ext.name;
    this.local = ext.local;
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.keyv.get(key);
  }

  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    // keyv serializes synchronously inside this call, before its first await: the stored copy is
    // taken now, so a caller that later mutates the response it got cannot alter the entry.
    return this.keyv.set(key, entry, ttlMs);
  }

  delete(key: string): Promise<boolean> {
    return this.keyv.delete(key);
  }

  async deleteMatching(pattern: string): Promise<number> {
    assertPattern(pattern);
    if (this.ext.deleteMatching) return this.ext.deleteMatching(pattern);
    const iterate = this.keyv.iterator;
    if (!iterate) {
      throw new CacheUnsupportedError(
        `the keyv store "${this.name}" cannot list its keys, so it cannot delete by pattern (delete by key instead)`,
      );
    }
    const re = globToRegExp(pattern);
    const keys: string[] = [];
    for await (const [key] of iterate(undefined)) {
      if (typeof key === 'string' && re.test(key)) keys.push(key);
    }
    if (keys.length > 0) await this.keyv.deleteMany(keys);
    return keys.length;
  }

  clear(): Promise<void> {
    return this.ext.clear ? this.ext.clear() : this.keyv.clear();
  }

  usage(): StoreUsage | undefined {
    return this.ext.usage?.();
  }

  ready(): Promise<void> {
    return this.ext.ready ? this.ext.ready() : Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.ext.close) await this.ext.close();
    else await this.keyv.disconnect();
  }
}

export interface KeyvStoreOptions {
  /** Name in metrics, spans and `meta.cache.store` (default `keyv`). */
  name?: string;
}

/**
 * Any keyv instance as a cache store (for example `new Keyv(new KeyvPostgres(...))`). Its
 * `throwOnErrors` is switched on so that failures are counted instead of silently read as misses.
 * Pattern deletes need an adapter keyv can iterate; `close()` disconnects the keyv instance.
 */
export function keyvStore(keyv: Keyv, options: KeyvStoreOptions = {}): CacheStore {
  keyv.throwOnErrors = true;
  return new KeyvCacheStore(keyv as Keyv<CacheEntry>, { name: options.name ?? 'keyv', local: false });
}
