import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { diag } from '@opentelemetry/api';
import type * as Redis from '@redis/client';
import type { BudgetCounter, BudgetStore, ReserveResult } from './budget-store.js';

/**
 * Check-and-reserve in one script, so that gateways sharing the Redis can never both pass the check
 * with the same remaining budget. KEYS: counters; ARGV: amount, limit per key, ttl per key.
 * Returns {1, values after...} or {0, refusing index, values before...}.
 */
const RESERVE = `
local amount = tonumber(ARGV[1])
local n = #KEYS
local values = {}
for i = 1, n do values[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
for i = 1, n do
  if values[i] + amount > tonumber(ARGV[1 + i]) then return {0, i, unpack(values)} end
end
for i = 1, n do
  values[i] = redis.call('INCRBY', KEYS[i], amount)
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1 + n + i])) end
end
return {1, 0, unpack(values)}
`;

/** Settles a reservation: INCRBY by the difference (never read-modify-write). ARGV: delta, ttl per key. */
const ADJUST = `
local delta = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], delta)
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1 + i])) end
end
return 1
`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const RESERVE_SHA = sha1(RESERVE);
const ADJUST_SHA = sha1(ADJUST);

interface ScriptOptions {
  keys: string[];
  arguments: string[];
}

/** The few commands the store needs; an `@redis/client` client (v5) has them. */
export interface RedisScriptClient {
  evalSha(sha1: string, options: ScriptOptions): Promise<unknown>;
  eval(script: string, options: ScriptOptions): Promise<unknown>;
  mGet(keys: string[]): Promise<unknown>;
}

export interface RedisBudgetStoreOptions {
  /** Default `REDIS_URL`, else redis://127.0.0.1:6379. Ignored when `client` is given. */
  url?: string;
  /** A connected client of your own (it is not closed by the store). */
  client?: RedisScriptClient;
  /** Key prefix (default `flowgate:budget:`). */
  prefix?: string;
  /** Per-command timeout of the store's own client, and how long a call waits for it to connect (default 1000 ms). */
  timeoutMs?: number;
}

export interface RedisBudgetStore extends BudgetStore {
  /** Resolves once the store's own client is connected, or after `timeoutMs` (never rejects). */
  ready(): Promise<void>;
  /** Closes the store's own client (not a client you passed). */
  close(): Promise<void>;
}

/**
 * `@redis/client` is loaded on first use, not when the plugin is imported: it defines a subclass of
 * `String` (its RESP `VerbatimString`), and from then on V8 stops inlining `String.prototype` method
 * calls in the whole process (`charCodeAt` loops ran 5-7x slower, `slice` 2-3x; see
 * inikulin/parse5#1348). Processes that keep their budgets in memory never load it.
 */
function loadRedis(): typeof Redis {
  return createRequire(import.meta.url)('@redis/client') as typeof Redis;
}

/**
 * Budget spend in Redis, shared by every gateway that uses the same Redis and prefix. Reservations
 * are one Lua script (check every counter, then INCRBY all); settlements are INCRBY of the difference.
 * The store's own client fails commands fast while Redis is unreachable (no offline queue), so that a
 * budget never hangs a call: the plugin counts the failure and applies its `onStoreError` policy.
 */
export function redisBudgetStore(options: RedisBudgetStoreOptions = {}): RedisBudgetStore {
  const prefix = options.prefix ?? 'flowgate:budget:';
  const timeoutMs = options.timeoutMs ?? 1000;
  let own: ReturnType<typeof Redis.createClient> | undefined;
  let client: RedisScriptClient;
  let connecting: Promise<void> | undefined;
  let wasReady = false;
  if (options.client) {
    client = options.client;
    connecting = Promise.resolve();
  } else {
    own = loadRedis().createClient({
      url: options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      disableOfflineQueue: true,
      commandOptions: { timeout: timeoutMs },
      socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) },
    });
    // Without a listener an 'error' event would crash the process; the plugin reports failed commands.
    own.on('error', (err: unknown) => diag.debug('flowgate token-optimizer: redis budget store error', err));
    client = own as unknown as RedisScriptClient;
  }

  /** Starts connecting once; the promise never rejects (the client keeps retrying in the background). */
  const startConnect = (): Promise<void> => {
    if (!own) return Promise.resolve();
    connecting ??= own.connect().then(
      () => {
        wasReady = true;
      },
      (err: unknown) => {
        connecting = undefined;
        diag.debug('flowgate token-optimizer: redis budget store could not connect', err);
      },
    );
    return connecting;
  };

  /**
   * Waits for the first connection at most `timeoutMs`, then fails: a budget must never hang a call.
   * Once connected, a lost connection fails commands at once while the client reconnects.
   */
  const connected = async (): Promise<void> => {
    if (!own || own.isReady) return;
    if (wasReady) throw new Error('redis budget store: Redis is unreachable (reconnecting)');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([startConnect(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (!own?.isReady) throw new Error(`redis budget store: not connected to Redis after ${timeoutMs} ms`);
  };

  const run = async (script: string, sha: string, opts: ScriptOptions): Promise<unknown> => {
    await connected();
    try {
      return await client.evalSha(sha, opts);
    } catch (err) {
      // NOSCRIPT: the server has not seen the script yet (or was flushed): send it once in full.
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(script, opts);
      throw err;
    }
  };

  return {
    kind: 'redis',
    ready: () => connected().catch(() => {}),
    async reserve(counters: readonly BudgetCounter[], amount: number): Promise<ReserveResult> {
      const reply = (await run(RESERVE, RESERVE_SHA, {
        keys: counters.map((c) => prefix + c.key),
        arguments: [
          String(amount),
          ...counters.map((c) => String(c.limit)),
          ...counters.map((c) => String(c.ttlSeconds)),
        ],
      })) as unknown[];
      const spent = reply.slice(2).map(Number);
      if (Number(reply[0]) === 1) return { ok: true, spent };
      return { ok: false, index: Number(reply[1]) - 1, spent };
    },
    async adjust(counters: readonly BudgetCounter[], delta: number): Promise<void> {
      if (delta === 0) return;
      await run(ADJUST, ADJUST_SHA, {
        keys: counters.map((c) => prefix + c.key),
        arguments: [String(delta), ...counters.map((c) => String(c.ttlSeconds))],
      });
    },
    async read(keys: readonly string[]): Promise<number[]> {
      if (keys.length === 0) return [];
      await connected();
      const values = (await client.mGet(keys.map((k) => prefix + k))) as (string | null)[];
      return values.map((v) => (v === null ? 0 : Number(v)));
    },
    async close(): Promise<void> {
      if (!own) return;
      const c = own;
      own = undefined;
      // A graceful close waits for replies, which never come while Redis is unreachable.
      if (c.isReady) await c.close().catch(() => c.destroy());
      else if (c.isOpen) c.destroy();
    },
  };
}
