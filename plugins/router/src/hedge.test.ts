import { createGateway, type Gateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RouterOptions, router } from './index.js';
import { ask, readStream, telemetry } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({ models: { first: { text: 'from first' }, second: { text: 'from second' } } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
  mock.configure('first', { text: 'from first' }, { replace: true });
  mock.configure('second', { text: 'from second' }, { replace: true });
});
afterAll(async () => {
  await mock.close();
});

function setup(options: Partial<RouterOptions> = {}) {
  const t = telemetry();
  const providers = ['a', 'b'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const gateway = createGateway({
    providers,
    plugins: [
      router({
        models: {
          smart: [
            { provider: 'a', model: 'first', priority: 0 },
            { provider: 'b', model: 'second', priority: 1 },
          ],
        },
        strategy: 'priority',
        hedge: { delay: 30 },
        ...options,
      }),
    ],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  open.push(gateway);
  return { gateway, t };
}

function hedges(rm: ResourceMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics)
      if (m.descriptor.name === 'flowgate.router.hedges')
        for (const p of m.dataPoints) out[String(p.attributes['flowgate.router.hedge.outcome'])] = p.value as number;
  return out;
}

describe('hedging', () => {
  it('sends the request to the next deployment when the first is slow, uses the first answer, aborts the other', async () => {
    mock.configure('first', { latencyMs: 2000 });
    const { gateway, t } = setup();
    const res = await gateway.complete(ask('smart'));
    expect(res.choices[0]?.message.content).toBe('from second');
    expect(res.flowgate.provider).toBe('b');
    expect(res.flowgate.router?.hedged).toBe(true);
    expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.kind, a.outcome, a.errorCode])).toEqual([
      ['a/first', 'first', 'cancelled', 'FLOWGATE_ERR_HEDGE_LOST'],
      ['b/second', 'hedge', 'ok', undefined],
    ]);
    await vi.waitFor(() => expect(mock.stats().requestsAborted).toBe(1)); // the slow request was cancelled
    await vi.waitFor(async () => expect(hedges(await t.metrics())).toEqual({ won: 1 }));
    const events = (await t.spans()).find((s) => s.name === 'chat smart')?.events.map((e) => e.name);
    expect(events).toContain('flowgate.router.hedge');
  });

  it('hedges streams on the time to first token, and closes the losing stream', async () => {
    mock.configure('first', { ttftMs: 2000 });
    const { gateway } = setup();
    const { text, error, stream } = await readStream(gateway, ask('smart'));
    expect(error).toBeUndefined();
    expect(text).toBe('from second');
    expect((await stream.response).flowgate.provider).toBe('b');
    await vi.waitFor(() => expect(mock.stats().streamsAborted).toBe(1));
  });

  it('keeps the first deployment when it answers before the hedge, and cancels the hedge', async () => {
    mock.configure('first', { latencyMs: 150 });
    mock.configure('second', { latencyMs: 2000 });
    const { gateway, t } = setup({ hedge: { delay: 20 } });
    const res = await gateway.complete(ask('smart'));
    expect(res.choices[0]?.message.content).toBe('from first');
    expect(res.flowgate.provider).toBe('a');
    expect(res.flowgate.router?.attempts.map((a) => [a.kind, a.outcome])).toEqual([
      ['first', 'ok'],
      ['hedge', 'cancelled'],
    ]);
    await vi.waitFor(() => expect(mock.stats().requestsAborted).toBe(1));
    await vi.waitFor(async () => expect(hedges(await t.metrics())).toEqual({ lost: 1 }));
  });

  it('a failing hedge leaves the first attempt running', async () => {
    mock.configure('first', { latencyMs: 120 });
    mock.configure('second', { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] });
    const { gateway, t } = setup({ hedge: { delay: 10 } });
    const res = await gateway.complete(ask('smart'));
    expect(res.choices[0]?.message.content).toBe('from first');
    await vi.waitFor(async () => expect(hedges(await t.metrics())).toEqual({ failed: 1 }));
  });

  it('is off by default, and a call can turn it off', async () => {
    mock.configure('first', { latencyMs: 300 });
    const off = setup({ hedge: undefined });
    expect((await off.gateway.complete(ask('smart'))).flowgate.provider).toBe('a');
    const on = setup();
    expect((await on.gateway.complete(ask('smart'), { router: { hedge: false } })).flowgate.provider).toBe('a');
    expect(mock.stats().byModel.second).toBeUndefined();
    expect((await on.gateway.complete(ask('smart'))).flowgate.provider).toBe('b');
  });

  it("with delay 'p95', waits for the first deployment's observed p95 once it has enough samples", async () => {
    mock.configure('first', { latencyMs: 5 });
    const { gateway } = setup({ hedge: { delay: 'p95', initialDelayMs: 1000, minDelayMs: 10 } });
    // Until 20 samples, the initial delay (1 s) applies: a 150 ms answer is not hedged.
    mock.configure('first', { latencyMs: 150 });
    expect((await gateway.complete(ask('smart'))).flowgate.router?.hedged).toBe(false);
    mock.configure('first', { latencyMs: 5 });
    for (let i = 0; i < 25; i++) await gateway.complete(ask('smart'));
    // Now the p95 is a few ms: a 1 s answer is hedged early.
    mock.configure('first', { latencyMs: 1000 });
    const res = await gateway.complete(ask('smart'));
    expect(res.flowgate.router?.hedged).toBe(true);
    expect(res.flowgate.provider).toBe('b');
  });

  it('hedges at most the budgeted fraction of calls', async () => {
    mock.configure('first', { latencyMs: 60 });
    mock.configure('second', { latencyMs: 0 });
    const { gateway, t } = setup({ hedge: { delay: 5, maxRatio: 0 } });
    const results = await Promise.all(Array.from({ length: 15 }, () => gateway.complete(ask('smart'))));
    const hedged = results.filter((r) => r.flowgate.router?.hedged).length;
    expect(hedged).toBe(10); // the floor: 1 per second over the 10 s window
    await vi.waitFor(async () => expect(Object.values(hedges(await t.metrics())).reduce((a, b) => a + b, 0)).toBe(10));
  });
});
