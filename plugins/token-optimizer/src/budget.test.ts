import { type ChatCompletionRequest, ErrorCode, type FlowgateError, StreamTruncatedError } from '@flowgate/core';
import { countMockTokens, mockAnswerText } from '@flowgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryBudgetStore } from './budget-store.js';
import { BudgetExceededError, BudgetUnavailableError, UnpricedModelError } from './errors.js';
import { type Harness, points, startHarness, telemetry } from './harness.test-util.js';
import { tokenOptimizer } from './plugin.js';
import type { ModelInfo } from './prices.js';
import { redisBudgetStore } from './redis-budget-store.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(() => h.mock.reset());

const QUESTION = 'What is the answer to everything?';
const ask = (model: string, max_tokens = 20): ChatCompletionRequest => ({
  model,
  max_tokens,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: QUESTION },
  ],
});
const prices: Record<string, ModelInfo> = {
  'gpt-4o-mini': { inputPerMTok: 1, outputPerMTok: 2, contextWindow: 128_000 },
  'gpt-4o': { inputPerMTok: 10, outputPerMTok: 40, contextWindow: 128_000 },
};
// What the mock bills for `ask('gpt-4o-mini')`: 17 prompt tokens, 9 completion tokens.
const ACTUAL_USD = (17 * 1 + countMockTokens(mockAnswerText(QUESTION)) * 2) / 1e6;

async function rejection(p: Promise<unknown>): Promise<FlowgateError> {
  try {
    await p;
  } catch (err) {
    return err as FlowgateError;
  }
  throw new Error('expected the call to be refused');
}

describe('per-request budget', () => {
  it('refuses a call whose estimate is over budget, before anything is sent', async () => {
    const t = telemetry();
    const plugin = tokenOptimizer({ prices, budget: { perRequestUsd: 0.001 } });
    const gw = h.gateway([plugin], t);
    const err = await rejection(gw.complete(ask('gpt-4o', 100)));
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err).toMatchObject({
      code: 'FLOWGATE_ERR_BUDGET_EXCEEDED',
      retryable: false,
      status: 402,
      scope: 'request',
    });
    const prompt = plugin.countTokens(ask('gpt-4o')).total;
    expect((err as BudgetExceededError).estimateUsd).toBeCloseTo((prompt * 10 + 100 * 40) / 1e6, 15);
    expect(h.mock.stats().requests).toBe(0);
    expect(points(await t.metrics(), 'flowgate.budget.exceeded')).toEqual([
      { value: 1, attributes: { 'flowgate.budget.scope': 'request' } },
    ]);
    // Within budget: goes through and records the estimate.
    const ok = await gw.complete(ask('gpt-4o-mini', 100));
    expect(ok.flowgate.budget?.estimateUsd).toBeCloseTo((prompt * 1 + 100 * 2) / 1e6, 15);
  });

  it('moves an over-budget call to a cheaper model with the downgrade policy', async () => {
    const t = telemetry();
    const gw = h.gateway(
      [
        tokenOptimizer({
          prices,
          budget: { perRequestUsd: 0.001, onRequestOverBudget: 'downgrade', downgradeTo: ['gpt-4o', 'gpt-4o-mini'] },
        }),
      ],
      t,
    );
    const res = await gw.complete(ask('gpt-4o', 100));
    expect(res.model).toBe('gpt-4o-mini');
    expect(h.mock.stats().byModel).toEqual({ 'gpt-4o-mini': 1 });
    expect(res.flowgate.budget?.downgradedFrom).toBe('gpt-4o');
    expect(res.flowgate.cost?.usd).toBeCloseTo((17 * 1 + 9 * 2) / 1e6, 15);
    const call = (await t.spans()).find((s) => s.name === 'chat gpt-4o')!;
    expect(call.attributes['flowgate.budget.downgraded_from']).toBe('gpt-4o');
    expect(points(await t.metrics(), 'flowgate.budget.downgrades')[0]?.value).toBe(1);
    // Nothing cheap enough: refused.
    const err = await rejection(gw.complete(ask('gpt-4o', 1000)));
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(h.mock.stats().requests).toBe(1);
  });

  it('takes a per-call budget from the call options', async () => {
    const gw = h.gateway([tokenOptimizer({ prices })]);
    await expect(gw.complete(ask('gpt-4o-mini'), { tokenOptimizer: { budgetUsd: 0.000001 } })).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    await expect(gw.complete(ask('gpt-4o-mini'), { tokenOptimizer: { budgetUsd: 1 } })).resolves.toBeDefined();
  });
});

describe('tenant budgets (memory store)', () => {
  it('lets calls through until the daily budget is spent, settling reservations to the real cost', async () => {
    const plugin = tokenOptimizer({ prices, budget: { tenants: { acme: { dailyUsd: 1 } } } });
    const estimate = plugin.estimateCost(ask('gpt-4o-mini')).usd!;
    expect(estimate).toBeGreaterThan(ACTUAL_USD);
    // Room for exactly three calls: after three, spent + estimate is over the limit.
    const limit = 3 * ACTUAL_USD + estimate - 1e-6;
    const gw = h.gateway([
      tokenOptimizer({ prices, budget: { tenants: { acme: { dailyUsd: limit } }, tenant: { monthlyUsd: 10 } } }),
    ]);
    const acme = { metadata: { tenant: 'acme' } };
    for (let i = 0; i < 3; i++) {
      const res = await gw.complete(ask('gpt-4o-mini'), acme);
      expect(res.flowgate.budget).toMatchObject({ tenant: 'acme' });
    }
    const err = await rejection(gw.complete(ask('gpt-4o-mini'), acme));
    expect(err).toMatchObject({ code: 'FLOWGATE_ERR_BUDGET_EXCEEDED', scope: 'day', tenant: 'acme' });
    expect((err as BudgetExceededError).spentUsd).toBeCloseTo(3 * ACTUAL_USD, 12);
    expect(h.mock.stats().requests).toBe(3);
    // Another tenant has its own counters (and only the default monthly limit).
    await expect(gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'globex' } })).resolves.toBeDefined();
  });

  it('reports the budget state per tenant, day and month', async () => {
    const plugin = tokenOptimizer({
      prices,
      budget: { tenant: { dailyUsd: 1, monthlyUsd: 20 }, tenants: { acme: { dailyUsd: 2 } } },
    });
    const gw = h.gateway([plugin]);
    await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    const state = await plugin.budgetState('acme');
    const today = new Date().toISOString();
    expect(state).toMatchObject({
      tenant: 'acme',
      store: 'memory',
      day: { period: today.slice(0, 10), limitUsd: 2 },
      month: { period: today.slice(0, 7), limitUsd: 20 },
    });
    expect(state.day.spentUsd).toBeCloseTo(2 * ACTUAL_USD, 12);
    expect(state.month.spentUsd).toBeCloseTo(2 * ACTUAL_USD, 12);
    expect(state.day.remainingUsd).toBeCloseTo(2 - 2 * ACTUAL_USD, 12);
    const anonymous = await plugin.budgetState();
    expect(anonymous).toMatchObject({ tenant: 'default', day: { spentUsd: 0, limitUsd: 1 } });
  });

  it('gives the reservation back when the call fails before the provider answers', async () => {
    const plugin = tokenOptimizer({ prices, budget: { tenant: { dailyUsd: 1 } } });
    const gw = h.gateway([plugin]);
    h.mock.script('gpt-4o-mini', [{ type: 'status', status: 400 }]);
    const err = await rejection(gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } }));
    expect(err.code).toBe(ErrorCode.UPSTREAM_CLIENT);
    expect((await plugin.budgetState('acme')).day.spentUsd).toBe(0);
  });

  it('keeps the estimate as the charge when a stream fails after it started', async () => {
    const plugin = tokenOptimizer({ prices, budget: { tenant: { dailyUsd: 1 } } });
    const gw = h.gateway([plugin]);
    const estimate = plugin.estimateCost(ask('gpt-4o-mini')).usd!;
    h.mock.script('gpt-4o-mini', [{ type: 'truncate', afterChunks: 3 }]);
    const stream = gw.stream(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    await expect(
      (async () => {
        for await (const _ of stream) {
          // read until it breaks
        }
      })(),
    ).rejects.toBeInstanceOf(StreamTruncatedError);
    expect((await plugin.budgetState('acme')).day.spentUsd).toBeCloseTo(Math.ceil(estimate * 1e6) / 1e6, 12);
  });

  it('refuses a model without a price under a budget, unless onUnpriced is allow', async () => {
    const strict = h.gateway([tokenOptimizer({ prices, budget: { tenant: { dailyUsd: 1 } } })]);
    const err = await rejection(strict.complete(ask('mystery-model')));
    expect(err).toBeInstanceOf(UnpricedModelError);
    expect(err.code).toBe('FLOWGATE_ERR_UNPRICED_MODEL');
    expect(h.mock.stats().requests).toBe(0);
    const lax = tokenOptimizer({ prices, budget: { tenant: { dailyUsd: 1 }, onUnpriced: 'allow' } });
    const res = await h.gateway([lax]).complete(ask('mystery-model'));
    expect(res.flowgate.cost?.priced).toBe(false);
    expect((await lax.budgetState()).day.spentUsd).toBe(0);
  });

  it('expires counters with their period', async () => {
    let now = Date.parse('2026-11-28T23:59:00Z');
    const store = memoryBudgetStore({ now: () => now });
    const counter = { key: '{t}:day:2026-11-28', limit: 100, ttlSeconds: 60 };
    expect(await store.reserve([counter], 60)).toEqual({ ok: true, spent: [60] });
    expect(await store.reserve([counter], 50)).toEqual({ ok: false, index: 0, spent: [60] });
    now += 61_000;
    expect(await store.read([counter.key])).toEqual([0]);
  });
});

describe('budget configuration', () => {
  it('refuses malformed budgets at creation', () => {
    expect(() => tokenOptimizer({ budget: { perRequestUsd: -1 } })).toThrow(/perRequestUsd/);
    expect(() => tokenOptimizer({ budget: { onRequestOverBudget: 'downgrad' as never } })).toThrow(
      /onRequestOverBudget/,
    );
    expect(() => tokenOptimizer({ budget: { onRequestOverBudget: 'downgrade' } })).toThrow(/downgradeTo/);
    expect(() => tokenOptimizer({ budget: { tenants: { acme: { dailyUsd: Number.NaN } } } })).toThrow(/dailyUsd/);
    expect(() => tokenOptimizer({ budget: { onStoreError: 'ignore' as never } })).toThrow(/onStoreError/);
  });
});

describe('budget store failures', () => {
  it('let calls through by default (counted), or refuse them with onStoreError reject', async () => {
    const t = telemetry();
    // Nothing listens on port 1: the real client fails to connect.
    const lenient = tokenOptimizer({
      prices,
      budget: { tenant: { dailyUsd: 1 }, store: redisBudgetStore({ url: 'redis://127.0.0.1:1', timeoutMs: 100 }) },
    });
    const gw = h.gateway([lenient], t);
    const res = await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    expect(res.flowgate.cost?.priced).toBe(true);
    expect(points(await t.metrics(), 'flowgate.budget.store_errors')).toEqual([
      { value: 1, attributes: { 'flowgate.budget.store': 'redis', 'flowgate.budget.operation': 'reserve' } },
    ]);

    const strict = tokenOptimizer({
      prices,
      budget: {
        tenant: { dailyUsd: 1 },
        onStoreError: 'reject',
        store: redisBudgetStore({ url: 'redis://127.0.0.1:1', timeoutMs: 100 }),
      },
    });
    const err = await rejection(h.gateway([strict]).complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } }));
    expect(err).toBeInstanceOf(BudgetUnavailableError);
    expect(err).toMatchObject({ code: 'FLOWGATE_ERR_BUDGET_UNAVAILABLE', retryable: true });
    expect(h.mock.stats().requests).toBe(1);
  });
});
