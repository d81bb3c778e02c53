import { type CallOptions, createGateway, ErrorCode, type Gateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { NoDeploymentError } from '@flowgate/plugin-router';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// The conformance suite every routing strategy of the router package passes, run on this one too.
import { strategyConformance } from '../../../plugins/router/src/strategy-conformance.test-suite.js';
import { tierRouting } from './tier-router.js';
import { type Tier, tierAndTimeOfDay } from './tier-strategy.js';

const tenants: Record<string, Tier> = { acme: 'premium', globex: 'standard', initech: 'batch' };
const PEAK = new Date(2025, 0, 15, 14, 0);
const NIGHT = new Date(2025, 0, 15, 23, 0);

// Deployments without tier tags are shared by every tier: the strategy must then spread like any other.
for (const tenant of ['acme', 'globex', 'initech']) {
  strategyConformance({
    name: `tier and time of day, tenant ${tenant} (${tenants[tenant]})`,
    create: () => tierAndTimeOfDay({ tenants, now: () => PEAK }),
    callOptions: () => ({ metadata: { tenant } }),
    minShare: 0.3,
  });
}

describe('tier and time of day routing', () => {
  let mock: MockProvider;
  let now = PEAK;
  const open: Gateway[] = [];

  beforeAll(async () => {
    mock = await startMockProvider();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((g) => g.close()));
    mock.reset();
    for (const m of ['premium-m', 'standard-m', 'economy-m']) mock.configure(m, {}, { replace: true });
    now = PEAK;
  });
  afterAll(async () => {
    await mock.close();
  });

  function gateway(): Gateway {
    const g = createGateway({
      providers: [openai({ id: 'p', baseURL: `${mock.url}/v1` })],
      plugins: [
        tierRouting({
          tenants,
          now: () => now,
          breaker: false,
          retry: { maxRetries: 1, baseDelayMs: 1 },
          models: {
            chat: [
              { provider: 'p', model: 'premium-m', tags: ['premium'] },
              { provider: 'p', model: 'standard-m', tags: ['standard'] },
              { provider: 'p', model: 'economy-m', tags: ['economy'] },
            ],
          },
        }),
      ],
    });
    open.push(g);
    return g;
  }

  const served = async (g: Gateway, options: CallOptions, n = 6) => {
    const models = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await g.complete({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, options);
      models.add(res.model);
    }
    return [...models].sort();
  };

  it('keeps each tier on its own capacity at peak hours', async () => {
    const g = gateway();
    expect(await served(g, { metadata: { tenant: 'acme' } })).toEqual(['premium-m']);
    expect(await served(g, { metadata: { tenant: 'globex' } })).toEqual(['standard-m']);
    expect(await served(g, { metadata: { tenant: 'initech' } })).toEqual(['economy-m']);
    expect(await served(g, { metadata: { tenant: 'unknown-co' } })).toEqual(['standard-m']);
  });

  it('lends idle capacity off peak', async () => {
    now = NIGHT;
    const g = gateway();
    expect(await served(g, { metadata: { tenant: 'globex' } })).toEqual(['premium-m', 'standard-m']);
    expect(await served(g, { metadata: { tenant: 'initech' } })).toEqual(['economy-m', 'standard-m']);
  });

  it('lets a call override its tier', async () => {
    const g = gateway();
    expect(await served(g, { metadata: { tenant: 'acme' }, tier: 'batch' })).toEqual(['economy-m']);
  });

  it('falls back from a failing premium deployment to standard capacity', async () => {
    mock.configure('premium-m', { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] });
    const g = gateway();
    const res = await g.complete(
      { model: 'chat', messages: [{ role: 'user', content: 'hi' }] },
      { metadata: { tenant: 'acme' } },
    );
    expect(res.model).toBe('standard-m');
    expect(res.flowgate.router?.attempts.map((a) => [a.model, a.kind, a.outcome])).toEqual([
      ['premium-m', 'first', 'error'],
      ['standard-m', 'fallback', 'ok'],
    ]);
  });

  it('never lets batch work take interactive capacity at peak hours, even when its own is failing', async () => {
    mock.configure('economy-m', { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] });
    const g = gateway();
    const err = await g
      .complete({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { metadata: { tenant: 'initech' } })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe(ErrorCode.UPSTREAM_SERVER);
    expect(mock.stats().byModel['economy-m']).toBe(2); // the attempt and its retry
    expect(mock.stats().byModel['premium-m']).toBeUndefined();
    expect(mock.stats().byModel['standard-m']).toBeUndefined();
  });

  it('fails with NoDeploymentError when no deployment serves the tier at this hour', async () => {
    const g = createGateway({
      providers: [openai({ id: 'p', baseURL: `${mock.url}/v1` })],
      plugins: [
        tierRouting({
          tenants,
          now: () => PEAK,
          models: { chat: [{ provider: 'p', model: 'premium-m', tags: ['premium'] }] },
        }),
      ],
    });
    open.push(g);
    const err = await g
      .complete({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { metadata: { tenant: 'initech' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoDeploymentError);
    expect(mock.stats().requests).toBe(0);
  });
});
