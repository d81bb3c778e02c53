/**
 * The cache on the real Redis: shared between gateway instances, tenant isolation under randomized
 * load, and calls that keep working when Redis is unreachable.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { type Plugin, type Reply, streamReply } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { seededRandom } from '../../../test/support/prng.js';
import { describeWithRedis, REDIS_URL } from '../../../test/support/redis.js';
import { cache } from './cache.js';
import { ask, counterBy, Gateways, streamCall } from './cache.test-util.js';
import { CacheErrorCode } from './errors.js';
import { redisStore } from './stores/redis.js';
import { twoTierStore } from './stores/two-tier.js';

let mock: MockProvider;
const gateways = new Gateways(() => mock);
beforeAll(async () => {
  mock = await startMockProvider();
});
afterEach(async () => {
  await gateways.closeAll();
  mock.reset();
});
afterAll(() => mock.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Installed after the cache: stamps every answer that really comes from upstream with the scope it
 * was computed for (`system_fingerprint = tenant|user`). A cached answer served to another scope
 * would carry the wrong stamp.
 */
function stampScope(): Plugin {
  return {
    name: 'stamp-scope',
    setup(host) {
      host.useCall(async (ctx, next) => {
        const personalized = ctx.options.cache?.personalized === true;
        const stamp = `${ctx.metadata.tenant ?? '-'}|${personalized ? ctx.metadata.user : '-'}`;
        const reply: Reply = await next();
        if (reply.type === 'response') {
          reply.response.system_fingerprint = stamp;
          return reply;
        }
        const source = reply.chunks;
        return streamReply(
          (async function* () {
            for await (const c of source) yield { ...c, system_fingerprint: stamp };
          })(),
        );
      });
    },
  };
}

describeWithRedis('cache on the real Redis', () => {
  const namespace = `flowgate-test:${randomUUID()}`;
  const shared = () => redisStore({ url: REDIS_URL, namespace });

  afterAll(async () => {
    const s = shared();
    await s.ready?.();
    await s.clear();
    await s.close();
  });

  it('two gateway instances share it: an answer computed by one is a hit on the other', async () => {
    const a = cache({ store: shared() });
    const b = cache({ store: shared() });
    const gwA = gateways.create([a]);
    const gwB = gateways.create([b]);
    const q = ask('What is the capital of Japan?');
    const first = await gwA.complete(q, { metadata: { tenant: 'acme' } });
    expect(first.flowgate.cache).toMatchObject({ result: 'miss', store: 'redis' });
    for (let i = 0; i < 400 && a.stats().stores === 0; i++) await sleep(5);
    const other = await gwB.complete(q, { metadata: { tenant: 'acme' } });
    expect(other.flowgate.cache).toMatchObject({ hit: true, result: 'hit', store: 'redis' });
    expect(other.choices).toEqual(first.choices);
    const streamed = await streamCall(gwB, q, { metadata: { tenant: 'acme' } });
    expect(streamed.text).toBe(first.choices[0]?.message.content);
    expect(streamed.response.flowgate.cache?.hit).toBe(true);
    // Another tenant asking the same thing on either instance does not get it.
    expect((await gwB.complete(q, { metadata: { tenant: 'globex' } })).flowgate.cache?.hit).toBe(false);
    expect(mock.stats().requests).toBe(2);
  });

  it('1,000 randomized requests across tenants and users give zero cross-tenant hits', async () => {
    const random = seededRandom(20261128);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'ac', 'acme ', 'ACME', undefined];
    const users = ['u1', 'u2', 'u3', 'admin'];
    const questions = Array.from({ length: 12 }, (_, i) => `What is fact number ${i}?`);
    const instances = [
      gateways.create([cache({ store: shared(), cachePersonalized: true }), stampScope()]),
      gateways.create([cache({ store: shared(), cachePersonalized: true }), stampScope()]),
    ];
    let hits = 0;
    let wrong = 0;
    const scopes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const tenant = pick(tenants);
      const user = pick(users);
      const personalized = random() < 0.25;
      const question = pick(questions);
      const options = { metadata: { tenant, user }, cache: { personalized } };
      const gw = pick(instances);
      const res =
        random() < 0.3
          ? (await streamCall(gw, ask(question), options)).response
          : await gw.complete(ask(question), options);
      const expected = `${tenant ?? '-'}|${personalized ? user : '-'}`;
      scopes.add(`${expected}/${question}`);
      if (res.flowgate.cache?.hit) hits++;
      if (res.system_fingerprint !== expected) wrong++;
    }
    expect(wrong).toBe(0);
    expect(hits).toBeGreaterThan(500);
    // Every scope and question was computed upstream at least once, and most repeats were not.
    expect(mock.stats().requests).toBeGreaterThanOrEqual(scopes.size);
    expect(mock.stats().requests).toBeLessThan(1000 - 500);
  });

  it('two-tier (memory in front of Redis) shares answers across instances too', async () => {
    const gwA = gateways.create([cache({ store: twoTierStore({ back: shared() }) })]);
    const c = cache({ store: twoTierStore({ back: shared() }) });
    const gwB = gateways.create([c]);
    const q = ask('What is the tallest mountain?');
    await gwA.complete(q);
    // A's write reaches Redis in the background: wait for it through a third connection.
    const probe = shared();
    await probe.ready?.();
    try {
      const key = c.keyFor(q)!;
      for (let i = 0; i < 400 && (await probe.get(key)) === undefined; i++) await sleep(5);
    } finally {
      await probe.close();
    }
    expect((await gwB.complete(q)).flowgate.cache).toMatchObject({ hit: true, store: 'two-tier' });
    expect((await gwB.complete(q)).flowgate.cache).toMatchObject({ hit: true, store: 'two-tier' });
    expect(mock.stats().requests).toBe(1);
  });
});

describe('Redis unreachable', () => {
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }

  it('calls still succeed, as misses, and the failures are counted', async () => {
    const port = await closedPort();
    const t = telemetry();
    const c = cache({ store: redisStore({ url: `redis://127.0.0.1:${port}` }) });
    const gw = gateways.create([c], { meterProvider: t.meterProvider });
    const whole = await gw.complete(ask('What is Redis?'));
    expect(whole.choices[0]?.message.content).toBeTruthy();
    expect(whole.flowgate.cache).toMatchObject({ hit: false, result: 'miss', store: 'redis' });
    expect(whole.flowgate.cache?.storeError).toMatch(/^FLOWGATE_ERR_CACHE_/);
    // Its background write fails too (until it has, the finished answer is shared in process).
    for (let i = 0; i < 400 && c.stats().errors < 2; i++) await sleep(5);
    const streamed = await streamCall(gw, ask('What is Redis?'));
    expect(streamed.text).toBe(whole.choices[0]?.message.content);
    expect(streamed.response.flowgate.cache?.result).toBe('miss');
    for (let i = 0; i < 400 && c.stats().errors < 4; i++) await sleep(5);
    expect(c.stats()).toMatchObject({ hits: 0, misses: 2, stores: 0, errors: 4 });
    expect(mock.stats().requests).toBe(2);
    const metrics = await t.metrics();
    expect(counterBy(metrics, 'flowgate.cache.requests', 'flowgate.cache.result')).toEqual({ miss: 2 });
    expect(counterBy(metrics, 'flowgate.cache.errors', 'flowgate.cache.operation')).toEqual({ get: 2, set: 2 });
    expect(counterBy(metrics, 'flowgate.cache.errors', 'error.type')).toEqual({ [CacheErrorCode.STORE]: 4 });
  });
});
