import {
  type CallOptions,
  ContentFilterError,
  createGateway,
  ErrorCode,
  type Gateway,
  UpstreamClientError,
} from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DeploymentConfig, NoDeploymentError, type RouterOptions, router } from './index.js';
import { ask, seeded, telemetry } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
  for (const m of ['m1', 'm2', 'm3', 'small', 'medium', 'large', 'unknown']) mock.configure(m, { faults: [] });
});
afterAll(async () => {
  await mock.close();
});

function setup(deployments: DeploymentConfig[], options: Partial<RouterOptions> = {}) {
  const t = telemetry();
  const providers = ['a', 'b', 'c'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const gateway = createGateway({
    providers,
    plugins: [
      router({
        models: { smart: deployments },
        strategy: 'priority',
        breaker: false,
        random: seeded(5),
        retry: { baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 120 },
        ...options,
      }),
    ],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  open.push(gateway);
  const call = (options?: CallOptions) => gateway.complete(ask('smart'), options);
  return { gateway, t, call };
}

const d = (provider: string, model: string, extra: Partial<DeploymentConfig> = {}): DeploymentConfig => ({
  provider,
  model,
  ...extra,
});

function counter(rm: ResourceMetrics, name: string): number {
  let sum = 0;
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics) if (m.descriptor.name === name) for (const p of m.dataPoints) sum += p.value as number;
  return sum;
}

describe('retries', () => {
  it('retry the same deployment after the delay that retry-after-ms asked for', async () => {
    mock.script('m1', [{ type: 'status', status: 429, retryAfterMs: 80 }, 'ok']);
    const { call } = setup([d('a', 'm1')]);
    const res = await call();
    expect(res.flowgate.router?.attempts.map((a) => [a.kind, a.outcome, a.errorCode, a.retryDelayMs])).toEqual([
      ['first', 'error', ErrorCode.RATE_LIMITED, undefined],
      ['retry', 'ok', undefined, 80],
    ]);
    expect(res.flowgate.router?.retries).toBe(1);
  });

  it('honor Retry-After in seconds, capped at maxRetryAfterMs', async () => {
    mock.script('m1', [{ type: 'status', status: 429, retryAfter: 30 }, 'ok']);
    const { call } = setup([d('a', 'm1')]);
    const res = await call();
    expect(res.flowgate.router?.attempts[1]?.retryDelayMs).toBe(120);
  });

  it('fall back to every other deployment first (no wait), then retry with backoff', async () => {
    mock.script('m1', [{ type: 'status', status: 503 }, 'ok']);
    mock.script('m2', [{ type: 'reset' }]);
    const { call, t } = setup([d('a', 'm1', { priority: 0 }), d('b', 'm2', { priority: 1 })]);
    const res = await call();
    const attempts = res.flowgate.router?.attempts ?? [];
    expect(attempts.map((a) => [a.deployment, a.kind, a.outcome])).toEqual([
      ['a/m1', 'first', 'error'],
      ['b/m2', 'fallback', 'error'],
      ['a/m1', 'retry', 'ok'],
    ]);
    expect(attempts[2]?.retryDelayMs ?? 0).toBeLessThanOrEqual(10); // full jitter under the first ceiling
    const rm = await t.metrics();
    expect(counter(rm, 'flowgate.router.retries')).toBe(1);
    expect(counter(rm, 'flowgate.router.fallbacks')).toBe(1);
    const callSpan = (await t.spans()).find((s) => s.name === 'chat smart');
    expect(callSpan?.events.map((e) => e.name)).toEqual(['flowgate.router.fallback', 'flowgate.router.retry']);
  });

  it('take maxRetries from the call options over the router options', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 500 }, rate: 1 }] });
    const { call } = setup([d('a', 'm1')], { retry: { maxRetries: 0, budget: false } });
    await expect(call()).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_SERVER });
    expect(mock.stats().byModel.m1).toBe(1);
    await expect(call({ router: { maxRetries: 2 } })).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_SERVER });
    expect(mock.stats().byModel.m1).toBe(4);
  });

  it('the retry budget caps retries during an outage', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 500 }, rate: 1 }] });
    const { call, t } = setup([d('a', 'm1')], {
      retry: { maxRetries: 3, baseDelayMs: 0, budget: { ratio: 0.1, minPerSecond: 0 } },
    });
    for (let i = 0; i < 100; i++) await call().catch(() => {});
    const sent = mock.stats().byModel.m1 ?? 0;
    // Without the budget: 400 requests. With it: the 100 calls plus at most 10% retries.
    expect(sent).toBeGreaterThan(100);
    expect(sent).toBeLessThanOrEqual(110);
    expect(counter(await t.metrics(), 'flowgate.router.retry_budget.exhausted')).toBeGreaterThan(80);
  });
});

describe('error classes', () => {
  it('context window exceeded: only deployments with a larger window, the smallest first, never a retry', async () => {
    const tooLong = { type: 'status', status: 400, code: 'context_length_exceeded' } as const;
    mock.configure('small', { faults: [{ fault: tooLong, rate: 1 }] });
    mock.configure('medium', { faults: [{ fault: tooLong, rate: 1 }] });
    const { call } = setup([
      d('a', 'small', { contextWindow: 8_000, priority: 0 }),
      d('b', 'unknown', { priority: 1 }),
      d('c', 'large', { contextWindow: 200_000, priority: 2 }),
      d('b', 'medium', { contextWindow: 32_000, priority: 3 }),
    ]);
    const res = await call();
    expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.outcome])).toEqual([
      ['a/small', 'error'],
      ['b/medium', 'error'],
      ['c/large', 'ok'],
    ]);
    expect(mock.stats().byModel.unknown).toBeUndefined();
  });

  it('content policy: no retry and no fallback', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 400, code: 'content_filter' }, rate: 1 }] });
    const { call } = setup([d('a', 'm1', { priority: 0 }), d('b', 'm2', { priority: 1 })]);
    await expect(call()).rejects.toBeInstanceOf(ContentFilterError);
    expect(mock.stats().requests).toBe(1);
  });

  it('invalid request: no retry and no fallback', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 400, message: 'bad field' }, rate: 1 }] });
    const { call } = setup([d('a', 'm1', { priority: 0 }), d('b', 'm2', { priority: 1 })]);
    await expect(call()).rejects.toBeInstanceOf(UpstreamClientError);
    expect(mock.stats().requests).toBe(1);
  });

  it('auth failure: fall back to another deployment, never retry the same one', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 401 }, rate: 1 }] });
    mock.script('m2', [{ type: 'status', status: 503 }, 'ok']);
    const { call } = setup([d('a', 'm1', { priority: 0 }), d('b', 'm2', { priority: 1 })]);
    const res = await call();
    expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.kind])).toEqual([
      ['a/m1', 'first'],
      ['b/m2', 'fallback'],
      ['b/m2', 'retry'],
    ]);
  });

  it('an errorPolicy option can change the action for an error', async () => {
    mock.configure('m1', { faults: [{ fault: { type: 'status', status: 400, message: 'bad field' }, rate: 1 }] });
    const { call } = setup([d('a', 'm1', { priority: 0 }), d('b', 'm2', { priority: 1 })], {
      errorPolicy: (err, action) => (err instanceof UpstreamClientError && action === 'stop' ? 'fallback' : action),
    });
    const res = await call();
    expect(res.flowgate.provider).toBe('b');
  });
});

describe('tags', () => {
  it('a call that requires tags uses only deployments that have them', async () => {
    const { call } = setup([
      d('a', 'm1', { tags: ['us'] }),
      d('b', 'm2', { tags: ['eu', 'gdpr'], priority: 1 }),
      d('c', 'm3', { tags: ['eu'], priority: 2 }),
    ]);
    for (let i = 0; i < 3; i++) {
      const res = await call({ router: { tags: ['eu', 'gdpr'] } });
      expect(res.flowgate.provider).toBe('b');
    }
    const err = await call({ router: { tags: ['apac'] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoDeploymentError);
    expect((err as NoDeploymentError).code).toBe('FLOWGATE_ERR_NO_DEPLOYMENT');
  });
});
