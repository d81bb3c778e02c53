import { createGateway, ErrorCode, type Gateway, TimeoutError } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, type RouterOptions, type RouterPlugin, router } from './index.js';
import { ask, telemetry } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({ models: { flaky: {}, healthy: {} } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
  mock.configure('flaky', { faults: [] });
});
afterAll(async () => {
  await mock.close();
});

const failAlways = () => mock.configure('flaky', { faults: [{ fault: { type: 'status', status: 500 }, rate: 1 }] });

function setup(options: Partial<RouterOptions> = {}, models = ['flaky', 'healthy']) {
  const t = telemetry();
  const providers = ['a', 'b'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const plugin: RouterPlugin = router({
    models: { smart: models.map((model, i) => ({ provider: i === 0 ? 'a' : 'b', model, priority: i })) },
    strategy: 'priority',
    retry: false,
    breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 150 },
    ...options,
  });
  const gateway = createGateway({
    providers,
    plugins: [plugin],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  open.push(gateway);
  const state = () => plugin.deployments().find((d) => d.key === 'a/flaky')?.breaker;
  return { gateway, plugin, t, state };
}

function metric(rm: ResourceMetrics, name: string): MetricData | undefined {
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) return m;
  return undefined;
}

function points(m: MetricData | undefined): { attributes: Record<string, unknown>; value: unknown }[] {
  return (m?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
}

describe('circuit breaker', () => {
  it('opens after the configured failures, takes the deployment out of the plan, and closes after recovery', async () => {
    failAlways();
    const { gateway, state, t } = setup();
    for (let i = 0; i < 3; i++) await gateway.complete(ask('smart'));
    expect(state()).toBe('closed'); // 3 failures < volume threshold 4
    const fourth = await gateway.complete(ask('smart'));
    expect(fourth.flowgate.provider).toBe('b');
    expect(state()).toBe('open');
    expect(mock.stats().byModel.flaky).toBe(4);

    // Open: the plan starts at the healthy deployment, and the flaky one gets nothing.
    for (let i = 0; i < 5; i++) {
      const res = await gateway.complete(ask('smart'));
      expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.kind])).toEqual([['b/healthy', 'first']]);
    }
    expect(mock.stats().byModel.flaky).toBe(4);

    // Recovery: after the reset timeout one probe goes through; its success closes the breaker.
    mock.configure('flaky', { faults: [] });
    await vi.waitFor(() => expect(state()).toBe('half-open'), { timeout: 2000 });
    const probe = await gateway.complete(ask('smart'));
    expect(probe.flowgate.provider).toBe('a');
    expect(state()).toBe('closed');
    expect(mock.stats().byModel.flaky).toBe(5);

    const rm = await t.metrics();
    const transitions = points(metric(rm, 'flowgate.router.breaker.transitions')).map((p) => [
      p.attributes['flowgate.router.breaker.from'],
      p.attributes['flowgate.router.breaker.to'],
      p.value,
    ]);
    expect(transitions).toEqual(
      expect.arrayContaining([
        ['closed', 'open', 1],
        ['open', 'half-open', 1],
        ['half-open', 'closed', 1],
      ]),
    );
    const gauge = points(metric(rm, 'flowgate.router.breaker.state'));
    expect(gauge).toEqual(
      expect.arrayContaining([
        { attributes: expect.objectContaining({ 'flowgate.router.deployment': 'a/flaky' }), value: 0 },
        { attributes: expect.objectContaining({ 'flowgate.router.deployment': 'b/healthy' }), value: 0 },
      ]),
    );

    // The transitions caused by attempts are span events on those attempts.
    const spans = await t.spans();
    const events = spans.flatMap((s) =>
      s.events
        .filter((e) => e.name === 'flowgate.router.breaker')
        .map((e) => [
          s.name,
          e.attributes?.['flowgate.router.breaker.from'],
          e.attributes?.['flowgate.router.breaker.to'],
        ]),
    );
    expect(events).toEqual([
      ['attempt a', 'closed', 'open'],
      ['attempt a', 'half-open', 'closed'],
    ]);
  });

  it('reports an open breaker as 2 on the state gauge', async () => {
    failAlways();
    const { gateway, state, t } = setup({ breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 } });
    await gateway.complete(ask('smart'));
    await gateway.complete(ask('smart'));
    expect(state()).toBe('open');
    const gauge = points(metric(await t.metrics(), 'flowgate.router.breaker.state'));
    expect(gauge.find((p) => p.attributes['flowgate.router.deployment'] === 'a/flaky')?.value).toBe(2);
  });

  it('re-opens when the half-open probe fails', async () => {
    failAlways();
    const { gateway, state } = setup();
    for (let i = 0; i < 4; i++) await gateway.complete(ask('smart'));
    await vi.waitFor(() => expect(state()).toBe('half-open'), { timeout: 2000 });
    const res = await gateway.complete(ask('smart'));
    expect(res.flowgate.provider).toBe('b');
    expect(state()).toBe('open');
  });

  it('a probe cut short by the caller neither closes the breaker nor counts as a failure: it re-opens', async () => {
    failAlways();
    const { gateway, state, plugin } = setup({}, ['flaky']);
    for (let i = 0; i < 4; i++) await gateway.complete(ask('smart')).catch(() => {});
    const failures = () => plugin.deployments().find((d) => d.key === 'a/flaky')?.failures;
    expect(failures()).toBe(4);
    await vi.waitFor(() => expect(state()).toBe('half-open'), { timeout: 2000 });
    mock.configure('flaky', { faults: [{ fault: { type: 'hang' }, rate: 1 }] });
    const err = await gateway.complete(ask('smart'), { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(state()).toBe('open');
    expect(failures()).toBe(4);
  });

  it('fails fast with CircuitOpenError, sending nothing, when every deployment is open', async () => {
    failAlways();
    const { gateway, state } = setup({ breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 } }, ['flaky']);
    await gateway.complete(ask('smart')).catch(() => {});
    await gateway.complete(ask('smart')).catch(() => {});
    expect(state()).toBe('open');
    const sent = mock.stats().requests;
    const err = await gateway.complete(ask('smart')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).code).toBe('FLOWGATE_ERR_CIRCUIT_OPEN');
    expect((err as CircuitOpenError).retryable).toBe(true);
    expect(mock.stats().requests).toBe(sent);
  });

  it('does not count the caller’s own errors (invalid request, content policy) against the deployment', async () => {
    mock.configure('flaky', {
      faults: [{ fault: { type: 'status', status: 400, code: 'content_policy_violation' }, rate: 1 }],
    });
    const { gateway, state } = setup({ breaker: { volumeThreshold: 2 } });
    for (let i = 0; i < 6; i++) {
      const err = await gateway.complete(ask('smart')).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe(ErrorCode.CONTENT_FILTER); // no fallback either
    }
    expect(state()).toBe('closed');
    expect(mock.stats().byModel.healthy).toBeUndefined();
  });

  it('active health checks close an open breaker as soon as the deployment answers again', async () => {
    failAlways();
    const { gateway, state } = setup({
      breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000, healthCheck: { intervalMs: 30 } },
    });
    await gateway.complete(ask('smart'));
    await gateway.complete(ask('smart'));
    expect(state()).toBe('open');
    // Probes keep failing while the deployment is down...
    await vi.waitFor(() => expect(mock.stats().byModel.flaky).toBeGreaterThan(3), { timeout: 2000 });
    expect(state()).toBe('open');
    // ...and the first that succeeds closes the breaker, long before the 60 s reset timeout.
    mock.configure('flaky', { faults: [] });
    await vi.waitFor(() => expect(state()).toBe('closed'), { timeout: 2000 });
    const probe = mock.stats().lastRequest?.body as { max_tokens?: number };
    expect(probe.max_tokens).toBe(1);
    const res = await gateway.complete(ask('smart'));
    expect(res.flowgate.provider).toBe('a');
  });
});
