/**
 * The pool against the plain-HTTP mock provider: reuse, saturation, metrics, the span event on attempts.
 */
import { createGateway, type Gateway, type Plugin, type Provider } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { chat, events, MODEL, points, until } from './helpers.test-util.js';
import { PoolSaturatedError, pool } from './index.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function mock(): Promise<MockProvider> {
  const m = await startMockProvider();
  closers.push(() => m.close());
  return m;
}

function gateway(providers: Provider[], plugins: Plugin[], t?: ReturnType<typeof telemetry>): Gateway {
  const g = createGateway({
    providers,
    plugins,
    ...(t ? { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider } : {}),
  });
  closers.push(() => g.close());
  return g;
}

const provider = (m: MockProvider, id = 'mock') => openai({ id, apiKey: 'k', baseURL: `${m.url}/v1` });

describe('connection reuse', () => {
  it('reuses one connection for back-to-back calls, where a bare undici pool opens a second one', async () => {
    const m = await mock();
    // The baseline: undici hands a connection out again only one event-loop turn after its answer ended.
    const bare = new Agent();
    closers.push(() => bare.close());
    for (let i = 0; i < 3; i++) {
      const res = await bare.request({ origin: m.url, path: '/v1/models', method: 'GET' });
      await res.body.dump();
    }
    expect(m.stats().connections).toBe(2);

    m.reset();
    const g = gateway([provider(m)], [pool()]);
    for (let i = 0; i < 5; i++) await g.complete(chat(`call ${i}`));
    expect(m.stats().requests).toBe(5);
    expect(m.stats().connections).toBe(1);
  });

  it('opens one connection per concurrent call and records each on its own attempt span', async () => {
    const m = await mock();
    const t = telemetry();
    const plugin = pool();
    const g = gateway([provider(m)], [plugin], t);
    await Promise.all([1, 2, 3].map((i) => g.complete(chat(`concurrent ${i}`))));
    expect(m.stats().connections).toBe(3);
    const attempts = (await t.spans()).filter((s) => s.name.startsWith('attempt'));
    expect(attempts).toHaveLength(3);
    for (const a of attempts) {
      const opened = events(a, 'flowgate.pool.connection_opened');
      expect(opened).toHaveLength(1);
      expect(opened[0]!.attributes).toMatchObject({ 'flowgate.pool.origin': m.url, 'network.protocol.version': '1.1' });
      expect(opened[0]!.attributes).not.toHaveProperty('tls.resumed'); // plain TCP
    }
    expect(plugin.stats()[m.url]!.connects).toBe(3);
  });

  it('marks only the attempt that opened the connection when calls wait for a single one', async () => {
    const m = await mock();
    const t = telemetry();
    const g = gateway([provider(m)], [pool({ connections: 1 })], t);
    await Promise.all([1, 2, 3].map((i) => g.complete(chat(`queued ${i}`))));
    expect(m.stats().connections).toBe(1);
    const attempts = (await t.spans()).filter((s) => s.name.startsWith('attempt'));
    const counts = attempts.map((a) => events(a, 'flowgate.pool.connection_opened').length);
    expect(counts.sort()).toEqual([0, 0, 1]);
  });
});

describe('saturation', () => {
  it('refuses a call with FLOWGATE_ERR_POOL_SATURATED once maxQueued calls wait, and counts it', async () => {
    const m = await mock();
    const t = telemetry();
    const plugin = pool({ connections: 1, maxQueued: 1 });
    const g = gateway([provider(m)], [plugin], t);
    m.script(MODEL, [{ type: 'hang' }]);
    const holder = new AbortController();
    const first = g.complete(chat('holds the only connection'), { signal: holder.signal });
    first.catch(() => {});
    await until(() => plugin.stats()[m.url]?.running === 1, 'the first call is on the wire');
    const second = g.complete(chat('waits in the queue'));
    await until(() => plugin.stats()[m.url]?.queued === 1, 'the second call is queued');

    const err = await g.complete(chat('one too many')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolSaturatedError);
    expect(err).toMatchObject({
      code: 'FLOWGATE_ERR_POOL_SATURATED',
      retryable: true,
      origin: m.url,
      provider: 'mock',
      queued: 1,
      maxQueued: 1,
    });
    expect(m.stats().requests).toBe(1); // the refused call never reached the server
    expect(plugin.stats()[m.url]!.saturated).toBe(1);

    // The gauges see the busy connection and the waiting call.
    const metrics = await t.metrics();
    const at = { 'flowgate.pool.origin': m.url };
    expect(points(metrics, 'flowgate.pool.connections.open')).toEqual([
      expect.objectContaining({ value: 1, attributes: at }),
    ]);
    expect(points(metrics, 'flowgate.pool.connections.free')).toEqual([
      expect.objectContaining({ value: 0, attributes: at }),
    ]);
    expect(points(metrics, 'flowgate.pool.requests.running')).toEqual([
      expect.objectContaining({ value: 1, attributes: at }),
    ]);
    expect(points(metrics, 'flowgate.pool.requests.queued')).toEqual([
      expect.objectContaining({ value: 1, attributes: at }),
    ]);
    expect(points(metrics, 'flowgate.pool.requests.pending')).toEqual([
      expect.objectContaining({ value: 1, attributes: at }),
    ]);
    expect(points(metrics, 'flowgate.pool.saturated')).toEqual([expect.objectContaining({ value: 1, attributes: at })]);

    holder.abort();
    await expect(first).rejects.toMatchObject({ code: 'FLOWGATE_ERR_ABORTED' });
    const res = await second;
    expect(res.choices[0]!.message.content).toBe('Mock answer to: waits in the queue');
  });

  it('lets a router fall back to another target when the pool is saturated (the error is retryable)', async () => {
    const busy = await mock();
    const spare = await mock();
    const a = provider(busy, 'busy');
    const b = provider(spare, 'spare');
    const twoTargets: Plugin = {
      name: 'two-targets',
      setup(host) {
        host.setRouter({
          name: 'a-then-b',
          plan: (ctx) => [
            { provider: a, model: ctx.request.model },
            { provider: b, model: ctx.request.model },
          ],
        });
      },
    };
    const plugin = pool({ origins: { [busy.url]: { connections: 1, maxQueued: 0 } } });
    const g = gateway([a, b], [twoTargets, plugin]);
    busy.script(MODEL, [{ type: 'hang' }]);
    const holder = new AbortController();
    const first = g.complete(chat('hangs on busy'), { signal: holder.signal });
    first.catch(() => {});
    await until(() => plugin.stats()[busy.url]?.running === 1, 'the busy origin is held');

    const res = await g.complete(chat('goes elsewhere'));
    expect(res.flowgate.provider).toBe('spare');
    expect(res.flowgate.attempts.map((x) => [x.provider, x.outcome, x.errorCode])).toEqual([
      ['busy', 'error', 'FLOWGATE_ERR_POOL_SATURATED'],
      ['spare', 'ok', undefined],
    ]);
    // The other origin keeps the default bound: it queues instead of refusing.
    expect(plugin.stats()[spare.url]!.saturated).toBe(0);
    holder.abort();
    await expect(first).rejects.toMatchObject({ code: 'FLOWGATE_ERR_ABORTED' });
  });
});

describe('metrics', () => {
  it('counts connection set-ups and their duration by origin and reason', async () => {
    const m = await mock();
    const t = telemetry();
    const g = gateway([provider(m)], [pool({ warmUp: { connections: 1 } })], t);
    await g.ready();
    await Promise.all([g.complete(chat('a')), g.complete(chat('b'))]);
    const metrics = await t.metrics();
    const base = { 'flowgate.pool.origin': m.url, 'flowgate.pool.connect.outcome': 'ok' };
    const connects = points(metrics, 'flowgate.pool.connects');
    expect(connects).toHaveLength(2);
    expect(connects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: 1, attributes: { ...base, 'flowgate.pool.connect.reason': 'warm_up' } }),
        expect.objectContaining({ value: 1, attributes: { ...base, 'flowgate.pool.connect.reason': 'demand' } }),
      ]),
    );
    const durations = points(metrics, 'flowgate.pool.connect.duration');
    const total = durations.reduce((n, p) => n + (p.value as { count: number }).count, 0);
    expect(total).toBe(2);
    expect(m.stats().connections).toBe(2);
  });

  it('counts a connection that fails, with its error type', async () => {
    const m = await mock();
    const url = m.url;
    await m.close(); // nothing listens any more: connections are refused
    const t = telemetry();
    const plugin = pool();
    const g = gateway([openai({ id: 'gone', apiKey: 'k', baseURL: `${url}/v1` })], [plugin], t);
    await expect(g.complete(chat('nobody home'))).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONNECTION' });
    expect(plugin.stats()[url]).toMatchObject({ connects: 0, connectErrors: 1 });
    const attempt = (await t.spans()).find((s) => s.name.startsWith('attempt'));
    expect(events(attempt, 'flowgate.pool.connect_failed')[0]?.attributes).toMatchObject({
      'flowgate.pool.origin': url,
      'error.type': 'ECONNREFUSED',
    });
    const connects = points(await t.metrics(), 'flowgate.pool.connects');
    expect(connects).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: {
          'flowgate.pool.origin': url,
          'flowgate.pool.connect.reason': 'demand',
          'flowgate.pool.connect.outcome': 'error',
          'error.type': 'ECONNREFUSED',
        },
      }),
    ]);
  });
});
