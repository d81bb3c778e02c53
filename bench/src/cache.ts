/**
 * bench/cache: what a cache hit costs, and how many upstream calls a weather-style workload saves.
 *
 * 1. Latency, in one run against one mock provider (in a child process), sequential calls sampled in
 *    interleaved blocks so that drift hits every mode alike:
 *      raw undici          `request()` + JSON parse of the answer (the floor of a real call)
 *      gateway             `gateway.complete()` with no plugins
 *      miss: memory        the cache on a memory store, every prompt new (lookup + call + store)
 *      hit: memory|sqlite|redis|two-tier   the same question again and again, answered by the cache
 *    Redis rows need Redis at REDIS_URL (default redis://127.0.0.1:6379); they are skipped otherwise.
 * 2. Hit rate on 1,000 questions shaped like the guide's weather example (repeats and near repeats:
 *    "What's the weather in Paris?", "what's the weather in paris", "What is the weather in Paris
 *    today?", ...), for three configurations: exact text, smart (normalized), smart + context keying.
 * Targets (issue 4): a memory hit <= 20 us and a Redis hit <= 0.5 ms at the median.
 *
 * Sizes: BENCH_CACHE_CALLS (default 5000 per mode), BENCH_CACHE_QUERIES (default 1000).
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '@flowgate/core';
import {
  type CacheOptions,
  type CachePlugin,
  type CacheStore,
  cache,
  memoryStore,
  redisStore,
  sqliteStore,
  twoTierStore,
} from '@flowgate/plugin-cache';
import { openai } from '@flowgate/providers';
import { ProxyTracerProvider } from '@opentelemetry/api';
import { Agent, setGlobalDispatcher } from 'undici';
import { BENCH_REQUEST, interleavedLatency } from './lib/load.js';
import { startMockProcess } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about = 'cache hits (memory, SQLite, Redis, two-tier) vs raw undici; hit rate on weather-style questions';

const CALLS = Number(process.env.BENCH_CACHE_CALLS ?? 5000);
const QUERIES = Number(process.env.BENCH_CACHE_QUERIES ?? 1000);
const BLOCK = Math.max(1, Math.min(200, Math.floor(CALLS / 10)));
const WARMUP = Math.min(500, CALLS);

const request = BENCH_REQUEST;

interface Mode {
  name: string;
  run: () => Promise<unknown>;
}

export async function main(): Promise<void> {
  const mock = await startMockProcess();
  const agent = new Agent({ connections: 16, keepAliveTimeout: 60_000 });
  setGlobalDispatcher(agent);
  const baseURL = `${mock.url}/v1`;
  const url = new URL(`${baseURL}/chat/completions`);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-cache-'));
  const namespace = `flowgate-bench:${randomUUID()}`;
  const gateways: Gateway[] = [];
  const stores: CacheStore[] = [];
  // No SDK: spans are non-recording, as for an app without telemetry.
  const tracerProvider = new ProxyTracerProvider();
  const gatewayWith = (plugins: CachePlugin[]) => {
    const gw = createGateway({ providers: [openai({ apiKey: 'bench', baseURL })], plugins, tracerProvider });
    gateways.push(gw);
    return gw;
  };

  try {
    const raw = async () => {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
        body: JSON.stringify(request),
      });
      if (res.statusCode !== 200) throw new Error(`mock answered ${res.statusCode}`);
      await res.body.json();
    };
    const plain = gatewayWith([]);
    let unique = 0;
    const missCache = cache({ store: memoryStore({ maxEntries: 1000 }) });
    const missGw = gatewayWith([missCache]);
    const modes: Mode[] = [
      { name: 'raw undici', run: raw },
      { name: 'gateway (no cache)', run: () => plain.complete(request) },
      {
        name: 'miss: memory',
        run: () =>
          missGw.complete({
            ...request,
            messages: [request.messages[0]!, { role: 'user', content: `What is the capital of country ${unique++}?` }],
          }),
      },
    ];

    // Stores for hits; the Redis ones only when Redis answers.
    const hitStores: [string, CacheStore][] = [
      ['memory', memoryStore()],
      ['sqlite', sqliteStore({ path: join(dir, 'cache.sqlite') })],
    ];
    const redis = redisStore({ namespace });
    stores.push(redis);
    await redis.ready?.();
    if (redis.client.isReady) {
      hitStores.push(['redis', redisStore({ namespace: `${namespace}:hit` })]);
      hitStores.push(['two-tier', twoTierStore({ back: redisStore({ namespace: `${namespace}:two-tier` }) })]);
    } else {
      console.error(
        `bench/cache: no Redis at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}: Redis rows skipped`,
      );
    }
    const hitCaches: CachePlugin[] = [];
    for (const [name, store] of hitStores) {
      stores.push(store);
      await store.ready?.();
      const c = cache({ store });
      hitCaches.push(c);
      const gw = gatewayWith([c]);
      await gw.complete(request); // the miss that stores the answer
      for (let i = 0; i < 1000 && c.stats().stores === 0; i++) await new Promise((r) => setTimeout(r, 2));
      modes.push({ name: `hit: ${name}`, run: () => gw.complete(request) });
    }

    // Warm-up: JIT, connections, the mock's own JIT.
    const pw = progress('warm-up');
    for (let i = 0; i < WARMUP; i++) {
      for (const m of modes) await m.run();
      pw.update(i + 1, WARMUP);
    }
    pw.done();

    const lat = await interleavedLatency(
      modes.map((m) => m.run),
      CALLS,
      BLOCK,
      'latency (sequential, interleaved blocks)',
    );
    for (const [i, c] of hitCaches.entries()) {
      const s = c.stats();
      if (s.misses !== 1)
        throw new Error(`${hitStores[i]![0]}: expected only hits after the first call, got ${s.misses} misses`);
    }

    const base = summarize(lat[0]!);
    const rows = modes.map((m, i) => {
      const s = summarize(lat[i]!);
      return [m.name, fmt(s.p50), fmt(s.p99), i === 0 ? '-' : `${fmt(s.p50 / base.p50, 2)}x`];
    });
    console.log(`\nbench/cache: ${CALLS} sequential calls per mode, blocks of ${BLOCK}, interleaved`);
    console.log(`node ${process.version}, mock provider in a child process, one undici Agent shared by all modes\n`);
    console.log(table(['mode', 'p50 us', 'p99 us', 'p50 vs raw'], rows));

    // 2. The weather workload.
    const p2 = progress(`weather workload (${QUERIES} questions x 3 configurations)`);
    const configs: [string, CacheOptions][] = [
      ['exact text (smart, no normalization)', { normalize: false }],
      ['smart (normalized)', {}],
      ['smart + context keying (time buckets)', { keying: 'context' }],
    ];
    const results: (string | number)[][] = [];
    for (const [ci, [name, options]] of configs.entries()) {
      const c = cache({ ...options, store: memoryStore() });
      const gw = gatewayWith([c]);
      let upstream = 0;
      let served = 0;
      for (const [i, q] of weatherQuestions(QUERIES, 42).entries()) {
        const res = await gw.complete(
          { model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] },
          { metadata: { tenant: 'weather-app' } },
        );
        upstream += res.flowgate.attempts.length;
        if (res.flowgate.cache?.hit) served++;
        p2.update(ci * QUERIES + i + 1, QUERIES * configs.length);
      }
      const s = c.stats();
      results.push([
        name,
        `${fmt((served / QUERIES) * 100)}%`,
        upstream,
        `${QUERIES - upstream} (${fmt(((QUERIES - upstream) / QUERIES) * 100)}%)`,
        s.skips,
      ]);
    }
    p2.done();
    console.log(
      `\nweather workload: ${QUERIES} questions, ${CITIES.length} cities (Zipf-like), 9 phrasings, one tenant`,
    );
    console.log(table(['configuration', 'hit rate', 'upstream calls', 'calls saved', 'not cacheable'], results));

    const p50 = (name: string) => {
      const i = modes.findIndex((m) => m.name === name);
      return i < 0 ? Number.NaN : summarize(lat[i]!).p50;
    };
    console.log('\ntargets:');
    console.log(`  memory hit <= 20 us at the median: ${fmt(p50('hit: memory'))} us`);
    console.log(`  Redis hit <= 0.5 ms at the median: ${fmt(p50('hit: redis') / 1000, 3)} ms`);
  } finally {
    // Leave nothing behind in a shared Redis: clear every store, then close (gateways close their stores).
    for (const s of stores) await s.clear().catch(() => {});
    await Promise.all(gateways.map((g) => g.close()));
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
    await agent.close();
    await mock.stop();
  }
}

const CITIES = [
  'Paris',
  'London',
  'Tokyo',
  'New York',
  'Berlin',
  'Madrid',
  'Rome',
  'Sydney',
  'Toronto',
  'Lisbon',
  'Oslo',
  'Cairo',
];

/** The guide's weather example: a few phrasings of one question, with repeats and near repeats. */
const PHRASINGS: ((city: string) => string)[] = [
  (c) => `What's the weather in ${c}?`,
  (c) => `what's the weather in ${c.toLowerCase()}`,
  (c) => `What is the weather in ${c}?`,
  (c) => `  What's the weather in ${c} ?`,
  (c) => `WHAT'S THE WEATHER IN ${c.toUpperCase()}?`,
  (c) => `What is the weather in ${c} today?`,
  (c) => `How's the weather in ${c} right now?`,
  (c) => `Weather in ${c}?`,
  (c) => `What's the weather forecast for ${c} tomorrow?`,
];

function weatherQuestions(n: number, seed: number): string[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Zipf-like: city k is asked about in proportion to 1 / (k + 1).
  const weights = CITIES.map((_, k) => 1 / (k + 1));
  const total = weights.reduce((x, y) => x + y, 0);
  const pickCity = () => {
    let r = random() * total;
    for (let k = 0; k < CITIES.length; k++) {
      r -= weights[k]!;
      if (r <= 0) return CITIES[k]!;
    }
    return CITIES[CITIES.length - 1]!;
  };
  return Array.from({ length: n }, () => PHRASINGS[Math.floor(random() * PHRASINGS.length)]!(pickCity()));
}
