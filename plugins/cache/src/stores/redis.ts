import { createRequire } from 'node:module';
import { ConfigError } from '@flowgate/core';
import type * as KeyvRedisModule from '@keyv/redis';
import { diag } from '@opentelemetry/api';
import type { CacheStore } from '../types.js';
import { createKeyv, KeyvCacheStore } from './keyv-store.js';
import { escapeRedisGlob } from './pattern.js';

export type RedisClient = ReturnType<typeof KeyvRedisModule.createClient>;

export interface RedisStoreOptions {
  /** Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** Key prefix in Redis: keys are `{namespace}::{key}` (default `flowgate:cache`). */
  namespace?: string;
  /**
   * Bring your own node-redis client (not closed by the store). It is connected if it is not open;
   * give it `disableOfflineQueue: true` so that commands fail at once while it is disconnected.
   */
  client?: RedisClient;
  /** TCP connect timeout, ms (default 2,000). */
  connectTimeoutMs?: number;
}

/** Keys per SCAN page and per UNLINK when deleting by pattern. */
const SCAN_COUNT = 500;

interface RedisAdapterModule {
  createClient: typeof KeyvRedisModule.createClient;
  /** The adapter refuses to reconnect once the store is closed (a late write must not reopen a socket). */
  ClosableKeyvRedis: new (
    ...args: ConstructorParameters<typeof KeyvRedisModule.default<string>>
  ) => KeyvRedisModule.default<string> & { closed: boolean };
}
let adapterModule: RedisAdapterModule | undefined;

/**
 * `@keyv/redis` is loaded when the first Redis store is made, not when the plugin is imported: its
 * client subclasses `String`, after which V8 runs `charCodeAt` loops in the whole process about
 * twice as slowly, a cost a process with only the memory store should not pay.
 */
function redisAdapter(): RedisAdapterModule {
  if (adapterModule) return adapterModule;
  const m = createRequire(import.meta.url)('@keyv/redis') as typeof KeyvRedisModule;
  class ClosableKeyvRedis extends m.default<string> {
    closed = false;
    override async getClient() {
      if (this.closed) throw new Error('the Redis cache store is closed');
      return super.getClient();
    }
  }
  adapterModule = { createClient: m.createClient, ClosableKeyvRedis };
  return adapterModule;
}

/**
 * A shared store: keyv with `@keyv/redis`. The client is connected at once in the background and
 * reconnects with a capped backoff; its offline queue is off, so while Redis is down every command
 * fails immediately (the plugin counts a miss) instead of queueing until the call's deadline.
 */
export function redisStore(options: RedisStoreOptions = {}): CacheStore & { readonly client: RedisClient } {
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const namespace = options.namespace ?? 'flowgate:cache';
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new ConfigError('redisStore namespace must be a non-empty string');
  }
  const connectTimeout = options.connectTimeoutMs ?? 2000;
  if (typeof connectTimeout !== 'number' || !(connectTimeout > 0)) {
    throw new ConfigError(`redisStore connectTimeoutMs must be a positive number, got ${String(connectTimeout)}`);
  }
  const owned = options.client === undefined;
  const { createClient, ClosableKeyvRedis } = redisAdapter();
  let client: RedisClient;
  try {
    client =
      options.client ??
      createClient({
        url,
        disableOfflineQueue: true,
        socket: { connectTimeout, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
      });
  } catch (err) {
    throw new ConfigError(`redisStore: ${err instanceof Error ? err.message : String(err)}`);
  }

  // node-redis emits 'error' on every failed (re)connect; without a listener that would crash the
  // process. Log once per outage, not once per retry.
  let down = false;
  client.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    diag.warn(`flowgate cache: Redis at ${url} is unavailable; calls go on as misses`, err);
  });
  client.on('ready', () => {
    down = false;
  });
  if (!client.isOpen) client.connect().catch(() => {});
  // Connected, or the first attempt failed, or the connect timeout passed: whichever comes first.
  const ready: Promise<void> = client.isReady
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          client.off('ready', done);
          client.off('error', done);
          resolve();
        };
        const timer = setTimeout(done, connectTimeout);
        timer.unref();
        client.once('ready', done);
        client.once('error', done);
      });

  const adapter = new ClosableKeyvRedis(client, { namespace, throwOnErrors: true, throwOnConnectError: true });
  const keyv = createKeyv(adapter, namespace);
  const prefix = `${escapeRedisGlob(namespace)}::`;

  async function deleteMatching(pattern: string): Promise<number> {
    await ready;
    let n = 0;
    for await (const keys of client.scanIterator({ MATCH: prefix + pattern, COUNT: SCAN_COUNT, TYPE: 'string' })) {
      if (keys.length > 0) n += await client.unlink(keys);
    }
    return n;
  }

  const store = new KeyvCacheStore(keyv, {
    name: 'redis',
    local: false,
    deleteMatching,
    ready: () => ready,
    clear: async () => {
      await deleteMatching('*');
    },
    close: async () => {
      adapter.closed = true;
      if (!owned || !client.isOpen) return;
      if (client.isReady) {
        // Let writes in flight finish, but not for long.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          client.close().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, 1000);
          }),
        ]);
        clearTimeout(timer);
      }
      if (client.isOpen) client.destroy();
    },
  });
  return Object.assign(store, { client });
}
