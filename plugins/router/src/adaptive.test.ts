/** The adaptive strategies against the mock provider: they follow latency and load, and forgive. */
import { createGateway, type Gateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RouterOptions, router, type StrategyName } from './index.js';
import { ask, readStream, seeded } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({ models: { ma: {}, mb: {} } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
  mock.configure('ma', {}, { replace: true });
  mock.configure('mb', {}, { replace: true });
});
afterAll(async () => {
  await mock.close();
});

function setup(strategy: StrategyName, options: Partial<RouterOptions> = {}) {
  const providers = ['a', 'b'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const plugin = router({
    models: {
      pair: [
        { provider: 'a', model: 'ma' },
        { provider: 'b', model: 'mb' },
      ],
    },
    strategy,
    random: seeded(11),
    latency: { halfLifeMs: 40, peakDecayMs: 40 },
    ...options,
  });
  const gateway = createGateway({ providers, plugins: [plugin] });
  open.push(gateway);
  const share = async (n: number, stream = false) => {
    const before = mock.stats().byModel;
    for (let i = 0; i < n; i++) {
      if (stream) await readStream(gateway, ask('pair'));
      else await gateway.complete(ask('pair'));
    }
    const after = mock.stats().byModel;
    return { a: (after.ma ?? 0) - (before.ma ?? 0), b: (after.mb ?? 0) - (before.mb ?? 0) };
  };
  return { gateway, plugin, share };
}

describe('least latency', () => {
  it('sends most calls to the faster deployment, and a recovered one earns its traffic back', async () => {
    mock.configure('ma', { latencyMs: 30 });
    mock.configure('mb', { latencyMs: 1 });
    const { share } = setup('least-latency');
    await share(10);
    const slowA = await share(40);
    expect(slowA.b).toBeGreaterThan(30);
    // Roles swap: a recovers, b degrades. Idle estimates decay, a gets probed, and wins again.
    mock.configure('ma', { latencyMs: 1 });
    mock.configure('mb', { latencyMs: 30 });
    await share(20);
    const recovered = await share(40);
    expect(recovered.a).toBeGreaterThan(30);
  });

  it('ranks streams by time to first token', async () => {
    mock.configure('ma', { ttftMs: 30 });
    mock.configure('mb', { ttftMs: 1 });
    const { share } = setup('least-latency');
    await share(10, true);
    const s = await share(30, true);
    expect(s.b).toBeGreaterThan(22);
  });
});

describe('power of two choices (peak EWMA)', () => {
  it('moves traffic away from a deployment that slows down', async () => {
    mock.configure('ma', { latencyMs: 30 });
    mock.configure('mb', { latencyMs: 1 });
    const { share } = setup('p2c-peak-ewma');
    await share(10);
    const s = await share(40);
    expect(s.b).toBeGreaterThan(30);
  });
});

describe('least busy', () => {
  it('sends new calls to the deployment with the fewest calls in flight', async () => {
    mock.configure('ma', { latencyMs: 300 });
    mock.configure('mb', { latencyMs: 1 });
    const { gateway, plugin } = setup('least-busy');
    const inFlight = (key: string) => plugin.deployments().find((d) => d.key === key)?.inFlight;
    const calls = [];
    for (let i = 0; i < 10; i++) {
      calls.push(gateway.complete(ask('pair')));
      // This call's request has arrived, and whatever went to the fast deployment is done.
      await vi.waitFor(() => expect(mock.stats().requests).toBe(i + 1));
      await vi.waitFor(() => expect(inFlight('b/mb')).toBe(0));
    }
    const results = await Promise.all(calls);
    const onA = results.filter((r) => r.flowgate.provider === 'a').length;
    expect(onA).toBeLessThanOrEqual(1); // once a has one call in flight, b (idle) gets the rest
  });
});
