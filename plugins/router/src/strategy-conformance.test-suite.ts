/**
 * The conformance suite every routing strategy passes, the built-in ones and yours: real calls through a
 * gateway with the router plugin, to three deployments on the mock provider (over HTTP).
 *
 * - distribution: calls to three equal deployments are spread over all three (each gets `minShare` at least);
 * - no starvation: with one deployment slower than the others, every deployment still gets calls;
 * - health: once a failing deployment's breaker opens, it gets no more calls, and every call succeeds.
 *
 * Call `strategyConformance()` at the top level of a test file.
 */
import { type CallOptions, createGateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeploymentConfig, type RouterOptions, router, type Strategy, type StrategyName } from './index.js';
import { ask, seeded } from './router.test-util.js';

export interface StrategyConformanceOptions {
  /** Suite title. */
  name: string;
  /** A fresh strategy (or a built-in's name) per scenario. */
  create(): Strategy | StrategyName;
  /** Fields every deployment gets (tags, price, ...). */
  deployment?: Partial<DeploymentConfig>;
  /** Options of each call (for example the tenant a tenant-aware strategy routes by). */
  callOptions?: () => CallOptions;
  /** Least share of calls each of three equal deployments must get. Default 0.2 (a fair share is 0.33). */
  minShare?: number;
  /** Calls per scenario. Default 90. */
  calls?: number;
}

const IDS = ['a', 'b', 'c'] as const;
const modelOf = (id: string) => `conf-${id}`;

export function strategyConformance(o: StrategyConformanceOptions): void {
  const calls = o.calls ?? 90;
  const minShare = o.minShare ?? 0.2;

  describe(`strategy conformance: ${o.name}`, () => {
    let mock: MockProvider;

    beforeAll(async () => {
      mock = await startMockProvider({ models: { [modelOf('c')]: {} } });
    });
    afterAll(async () => {
      await mock.close();
    });

    /** A gateway whose `pool` alias has deployments a, b, c; the mock behaviours are set per scenario. */
    function gatewayFor(extra: Partial<RouterOptions> = {}) {
      mock.reset();
      const providers = IDS.map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
      const plugin = router({
        models: { pool: IDS.map((id) => ({ ...o.deployment, provider: id, model: modelOf(id) })) },
        strategy: o.create(),
        random: seeded(7),
        // Estimates decay fast so that adaptive strategies show their long-run behaviour in a short test.
        latency: { halfLifeMs: 10, peakDecayMs: 10, failurePenaltyMs: 20 },
        retry: { maxRetries: 0 },
        ...extra,
      });
      const gateway = createGateway({ providers, plugins: [plugin] });
      const counts = () => IDS.map((id) => mock.stats().byModel[modelOf(id)] ?? 0);
      return { gateway, plugin, counts };
    }

    /** `n` calls, three at a time (so in-flight counts mean something), each of which must succeed. */
    async function run(gateway: ReturnType<typeof createGateway>, n: number): Promise<string[]> {
      const tried: string[] = [];
      for (let i = 0; i < n; i += 3) {
        const batch = Array.from({ length: Math.min(3, n - i) }, () =>
          gateway.complete(ask('pool'), o.callOptions?.()),
        );
        const results = await Promise.all(batch);
        for (const r of results) {
          expect(r.choices[0]?.message.content).toMatch(/^Mock answer/);
          for (const a of r.flowgate.router?.attempts ?? []) tried.push(a.deployment);
        }
      }
      return tried;
    }

    it('distribution: spreads calls over equal deployments', async () => {
      for (const id of IDS) mock.configure(modelOf(id), { latencyMs: 2, faults: [], script: [] }, { replace: true });
      const { gateway, counts } = gatewayFor();
      try {
        await run(gateway, calls);
        const c = counts();
        expect(c.reduce((a, b) => a + b, 0)).toBe(calls); // one attempt per call: nothing failed
        for (const n of c) expect(n).toBeGreaterThanOrEqual(Math.floor(calls * minShare));
      } finally {
        await gateway.close();
      }
    });

    it('no starvation: a slower deployment keeps getting calls', async () => {
      mock.configure(modelOf('a'), { latencyMs: 1, faults: [], script: [] }, { replace: true });
      mock.configure(modelOf('b'), { latencyMs: 1, faults: [], script: [] }, { replace: true });
      mock.configure(modelOf('c'), { latencyMs: 8, faults: [], script: [] }, { replace: true });
      const { gateway, counts } = gatewayFor();
      try {
        await run(gateway, 30); // every strategy has measured every deployment by now
        const warm = counts();
        await run(gateway, calls);
        const gained = counts().map((n, i) => n - warm[i]!);
        for (const n of gained) expect(n).toBeGreaterThan(0);
      } finally {
        await gateway.close();
      }
    });

    it('health: a deployment whose breaker opened gets no calls, and every call succeeds', async () => {
      mock.configure(modelOf('a'), { latencyMs: 1, faults: [], script: [] }, { replace: true });
      mock.configure(modelOf('b'), { latencyMs: 1, faults: [], script: [] }, { replace: true });
      mock.configure(
        modelOf('c'),
        { latencyMs: 1, script: [], faults: [{ fault: { type: 'status', status: 500 }, rate: 1 }] },
        { replace: true },
      );
      const { gateway, plugin, counts } = gatewayFor({
        breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
      });
      try {
        // Until the breaker of c opens: every call succeeds (c's failures fall back).
        let rounds = 0;
        while (plugin.deployments().find((d) => d.key === 'c/conf-c')?.breaker !== 'open') {
          await run(gateway, 3);
          expect(++rounds).toBeLessThan(200);
        }
        const before = counts();
        const tried = await run(gateway, calls);
        const after = counts();
        expect(tried).not.toContain('c/conf-c'); // c is out of every plan, not even tried and refused
        expect(after[2]).toBe(before[2]);
        expect(after[0]! - before[0]!).toBeGreaterThan(0);
        expect(after[1]! - before[1]!).toBeGreaterThan(0);
        expect(after[0]! + after[1]! - before[0]! - before[1]!).toBe(calls);
      } finally {
        await gateway.close();
      }
    });
  });
}
