import { createGateway, type Gateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { router } from './index.js';
import { ask, readStream, telemetry } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({ models: { down: {}, up: {} } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
});
afterAll(async () => {
  await mock.close();
});

function setup() {
  const t = telemetry();
  const providers = ['a', 'b'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const gateway = createGateway({
    providers,
    plugins: [
      router({
        models: {
          smart: [
            { provider: 'a', model: 'down', priority: 0 },
            { provider: 'b', model: 'up', priority: 1 },
          ],
        },
        strategy: 'priority',
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
      }),
    ],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  open.push(gateway);
  return { gateway, t };
}

describe('router telemetry', () => {
  it('makes each attempt a child span with deployment, kind, retry delay, outcome and error type', async () => {
    mock.script('down', [{ type: 'status', status: 503 }]);
    mock.script('up', [{ type: 'status', status: 500 }, 'ok']);
    const { gateway, t } = setup();
    const res = await gateway.complete(ask('smart'));
    expect(res.flowgate.router?.attempts.map((a) => a.kind)).toEqual(['first', 'fallback', 'retry']);
    const spans = await t.spans();
    const call = spans.find((s) => s.name === 'chat smart')!;
    expect(call.attributes).toMatchObject({ 'flowgate.router.strategy': 'priority', 'flowgate.router.group': 'smart' });
    const attempts = spans.filter((s) => s.name.startsWith('attempt '));
    expect(
      attempts.map((s) => [
        s.attributes['flowgate.attempt'],
        s.attributes['flowgate.provider.id'],
        s.attributes['gen_ai.request.model'],
        s.attributes['flowgate.router.deployment'],
        s.attributes['flowgate.router.attempt.kind'],
        s.attributes['flowgate.outcome'],
        s.attributes['error.type'],
      ]),
    ).toEqual([
      [1, 'a', 'down', 'a/down', 'first', 'error', 'FLOWGATE_ERR_UPSTREAM_SERVER'],
      [2, 'b', 'up', 'b/up', 'fallback', 'error', 'FLOWGATE_ERR_UPSTREAM_SERVER'],
      [3, 'a', 'down', 'a/down', 'retry', 'ok', undefined], // retries start over at the best deployment
    ]);
    expect(attempts[2]?.attributes['flowgate.router.retry.delay_ms']).toBe(
      res.flowgate.router?.attempts[2]?.retryDelayMs ?? 0,
    );
    expect(typeof attempts[2]?.attributes['flowgate.router.first_byte_ms']).toBe('number');
    for (const a of attempts) expect(a.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
  });

  it('counts attempts by provider and outcome', async () => {
    mock.script('down', [{ type: 'status', status: 503 }]);
    const { gateway, t } = setup();
    await gateway.complete(ask('smart'));
    await readStream(gateway, ask('smart'));
    const rm = await t.metrics();
    const rows: [unknown, unknown, unknown, unknown][] = [];
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === 'flowgate.router.attempts')
          for (const p of m.dataPoints)
            rows.push([
              p.attributes['flowgate.provider.id'],
              p.attributes['flowgate.outcome'],
              p.attributes['error.type'],
              p.value,
            ]);
    expect(rows.sort()).toEqual([
      ['a', 'error', 'FLOWGATE_ERR_UPSTREAM_SERVER', 1],
      ['a', 'ok', undefined, 1],
      ['b', 'ok', undefined, 1],
    ]);
  });

  it('works without an OpenTelemetry SDK', async () => {
    const providers = [openai({ id: 'a', baseURL: `${mock.url}/v1` })];
    const gateway = createGateway({ providers, plugins: [router({ hedge: { delay: 1000 }, stallTimeoutMs: 1000 })] });
    open.push(gateway);
    const res = await gateway.complete(ask('up'));
    expect(res.flowgate.router?.attempts).toHaveLength(1);
    const s = await readStream(gateway, ask('up'));
    expect(s.error).toBeUndefined();
  });
});
