import type { CallContext, ChatCompletionRequest, Provider } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import {
  type Deployment,
  type DeploymentStats,
  estimatePromptTokens,
  type Price,
  type RouterCallOptions,
  type SelectContext,
  type Strategy,
} from './index.js';
import { seeded } from './router.test-util.js';
import { costAware } from './strategies/cost.js';
import { leastBusy } from './strategies/least-busy.js';
import { leastLatency } from './strategies/least-latency.js';
import { powerOfTwoChoices } from './strategies/p2c.js';
import { priority } from './strategies/priority.js';
import { roundRobin } from './strategies/round-robin.js';
import { weightedRoundRobin } from './strategies/weighted-round-robin.js';

const provider = (id: string): Provider => ({ id, system: 'fake', serves: () => true, send: () => Promise.reject() });

function dep(
  key: string,
  o: Partial<Omit<Deployment, 'stats'>> & { stats?: Partial<DeploymentStats> } = {},
): Deployment {
  const stats: DeploymentStats = {
    inFlight: 0,
    successes: 0,
    failures: 0,
    breaker: 'closed',
    latencyMs: undefined,
    ttftMs: undefined,
    peakEwmaMs: undefined,
    ...o.stats,
  };
  return {
    key,
    provider: provider(key),
    model: key,
    weight: 1,
    priority: 0,
    tags: [],
    contextWindow: undefined,
    price: undefined,
    ...o,
    stats,
  };
}

function ctx(
  o: {
    streaming?: boolean;
    request?: ChatCompletionRequest;
    router?: RouterCallOptions;
    prices?: Record<string, Price>;
  } = {},
): SelectContext {
  const call = {
    streaming: o.streaming ?? false,
    request: o.request ?? { model: 'g', messages: [{ role: 'user', content: 'hello' }] },
    options: { router: o.router },
    metadata: {},
  } as unknown as CallContext;
  const random = seeded(3);
  return { call, group: 'g', now: 0, priceOf: (d) => d.price ?? o.prices?.[d.key], random };
}

/** First choices over `n` calls. */
function firsts(s: Strategy, ds: Deployment[], n: number, c = ctx()): string[] {
  return Array.from({ length: n }, () => s.select(ds, c)[0]!.key);
}

function tally(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

describe('round robin', () => {
  it('starts each call one deployment further, and keeps every deployment as a fallback', () => {
    const ds = [dep('a'), dep('b'), dep('c')];
    const s = roundRobin();
    expect(firsts(s, ds, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(s.select(ds, ctx()).map((d) => d.key)).toEqual(['a', 'b', 'c']);
    expect(s.select(ds, ctx()).map((d) => d.key)).toEqual(['b', 'c', 'a']);
  });
});

describe('smooth weighted round robin', () => {
  it('gives each deployment its weight, interleaved (nginx sequence for 5:1:1)', () => {
    const ds = [dep('a', { weight: 5 }), dep('b', { weight: 1 }), dep('c', { weight: 1 })];
    expect(firsts(weightedRoundRobin(), ds, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
    expect(tally(firsts(weightedRoundRobin(), ds, 700))).toEqual({ a: 500, b: 100, c: 100 });
  });

  it('orders the fallbacks heaviest first', () => {
    const ds = [dep('a', { weight: 1 }), dep('b', { weight: 3 }), dep('c', { weight: 2 })];
    expect(
      weightedRoundRobin()
        .select(ds, ctx())
        .map((d) => d.key),
    ).toEqual(['b', 'c', 'a']);
  });
});

describe('priority', () => {
  it('sends every call to the best tier, spread by weight, and falls back tier by tier', () => {
    const ds = [
      dep('backup', { priority: 2 }),
      dep('main-1', { priority: 1, weight: 3 }),
      dep('main-2', { priority: 1, weight: 1 }),
      dep('last', { priority: 5 }),
    ];
    const s = priority();
    expect(tally(firsts(s, ds, 400))).toEqual({ 'main-1': 300, 'main-2': 100 });
    const order = s.select(ds, ctx()).map((d) => d.key);
    expect(order.slice(2)).toEqual(['backup', 'last']);
  });
});

describe('least latency', () => {
  it('prefers the lowest estimate, tries unmeasured deployments first, and uses TTFT for streams', () => {
    const ds = [
      dep('slow', { stats: { latencyMs: 300, ttftMs: 20 } }),
      dep('fast', { stats: { latencyMs: 100, ttftMs: 80 } }),
    ];
    const s = leastLatency();
    expect(s.select(ds, ctx()).map((d) => d.key)).toEqual(['fast', 'slow']);
    expect(s.select(ds, ctx({ streaming: true })).map((d) => d.key)).toEqual(['slow', 'fast']);
    const fresh = [...ds, dep('new')];
    expect(s.select(fresh, ctx())[0]!.key).toBe('new');
  });

  it('shares traffic among deployments within the tolerance', () => {
    const ds = [
      dep('a', { stats: { latencyMs: 100 } }),
      dep('b', { stats: { latencyMs: 105 } }),
      dep('c', { stats: { latencyMs: 200 } }),
    ];
    const counts = tally(firsts(leastLatency({ tolerance: 0.1 }), ds, 200));
    expect(counts.a).toBeGreaterThan(50);
    expect(counts.b).toBeGreaterThan(50);
    expect(counts.c).toBeUndefined();
    expect(tally(firsts(leastLatency({ tolerance: 0 }), ds, 50))).toEqual({ a: 50 });
  });
});

describe('least busy', () => {
  it('picks the fewest in flight per unit of weight', () => {
    const ds = [
      dep('a', { stats: { inFlight: 4 } }),
      dep('b', { stats: { inFlight: 3 }, weight: 3 }),
      dep('c', { stats: { inFlight: 2 } }),
    ];
    expect(
      leastBusy()
        .select(ds, ctx())
        .map((d) => d.key),
    ).toEqual(['b', 'c', 'a']);
  });
});

describe('power of two choices (peak EWMA)', () => {
  it('never picks the costlier of any pair, so the most loaded deployment is never first', () => {
    const ds = [
      dep('idle-fast', { stats: { peakEwmaMs: 10, inFlight: 0 } }),
      dep('busy-fast', { stats: { peakEwmaMs: 10, inFlight: 9 } }),
      dep('idle-slow', { stats: { peakEwmaMs: 50, inFlight: 0 } }),
    ];
    const counts = tally(firsts(powerOfTwoChoices(), ds, 300));
    expect(counts['busy-fast']).toBeUndefined(); // costliest of all: loses every pair it is in
    expect(counts['idle-fast']).toBeGreaterThan(counts['idle-slow']!);
    expect(counts['idle-slow']).toBeGreaterThan(0); // chosen when the pair is (busy-fast, idle-slow)
  });
});

describe('cost aware', () => {
  const cheap = dep('cheap', { price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }, contextWindow: 1000 });
  const mid = dep('mid', { price: { inputPerMTok: 2.5, outputPerMTok: 10 }, contextWindow: 128_000 });
  const unpriced = dep('unpriced');

  it('orders by estimated cost, unpriced last', () => {
    expect(
      costAware()
        .select([unpriced, mid, cheap], ctx())
        .map((d) => d.key),
    ).toEqual(['cheap', 'mid', 'unpriced']);
  });

  it('leaves out deployments whose window the prompt does not fit, or above the call cost and latency caps', () => {
    const long: ChatCompletionRequest = { model: 'g', messages: [{ role: 'user', content: 'x'.repeat(8000) }] };
    expect(estimatePromptTokens(long)).toBe(2004);
    expect(
      costAware()
        .select([cheap, mid], ctx({ request: long }))
        .map((d) => d.key),
    ).toEqual(['mid']);
    const capped = ctx({ router: { maxCostUsd: 0.001 } });
    expect(
      costAware()
        .select([cheap, mid, unpriced], capped)
        .map((d) => d.key),
    ).toEqual(['cheap']);
    const slowCheap = dep('slow-cheap', { price: cheap.price, stats: { latencyMs: 900 } });
    const fast = ctx({ router: { maxLatencyMs: 500 } });
    expect(
      costAware()
        .select([slowCheap, mid], fast)
        .map((d) => d.key),
    ).toEqual(['mid']);
  });

  it('uses the price lookup for deployments without their own price, and rotates equal costs', () => {
    const a = dep('a');
    const b = dep('b');
    const prices = { a: { inputPerMTok: 1, outputPerMTok: 1 }, b: { inputPerMTok: 1, outputPerMTok: 1 } };
    const c = ctx({ prices });
    expect(tally(firsts(costAware(), [a, b, unpriced], 10, c))).toEqual({ a: 5, b: 5 });
  });
});
