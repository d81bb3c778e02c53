import type { ChatCompletionRequest } from '@flowgate/core';
import { countMockTokens, mockAnswerText } from '@flowgate/mock-provider';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithRedis, REDIS_URL } from '../../../test/support/redis.js';
import { toMicros } from './cost.js';
import { BudgetExceededError } from './errors.js';
import { type Harness, startHarness } from './harness.test-util.js';
import { tokenOptimizer } from './plugin.js';
import { redisBudgetStore } from './redis-budget-store.js';

describeWithRedis('redis budget store', () => {
  let redis: ReturnType<typeof createClient>;
  let h: Harness;
  let run = 0;
  const prefix = () => `flowgate:test:budget:${process.pid}:${Date.now()}:${run}:`;
  let current = '';

  beforeAll(async () => {
    redis = createClient({ url: REDIS_URL });
    redis.on('error', () => {});
    await redis.connect();
    // Latency keeps many calls in flight at once, so reservations really overlap.
    h = await startHarness({ defaults: { latencyMs: 10 } });
  });
  afterEach(async () => {
    const keys = await redis.keys(`${current}*`);
    if (keys.length > 0) await redis.del(keys);
    run++;
  });
  afterAll(async () => {
    await h.close();
    await redis.close();
  });

  it('reserves atomically across counters, refuses without changing anything, settles by increments', async () => {
    current = prefix();
    const store = redisBudgetStore({ prefix: current });
    try {
      const day = { key: '{acme}:day:2026-11-28', limit: 100, ttlSeconds: 60 };
      const month = { key: '{acme}:month:2026-11', limit: 150, ttlSeconds: 120 };
      expect(await store.reserve([day, month], 60)).toEqual({ ok: true, spent: [60, 60] });
      // The day counter refuses: neither counter moves.
      expect(await store.reserve([day, month], 50)).toEqual({ ok: false, index: 0, spent: [60, 60] });
      expect(await store.read([day.key, month.key])).toEqual([60, 60]);
      await store.adjust([day, month], -25);
      expect(await store.read([day.key, month.key, '{acme}:day:never'])).toEqual([35, 35, 0]);
      expect(await store.reserve([day, month], 65)).toEqual({ ok: true, spent: [100, 100] });
      // Counters expire with their period.
      const ttl = await redis.ttl(`${current}${day.key}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      expect(await redis.ttl(`${current}${month.key}`)).toBeGreaterThan(60);
    } finally {
      await store.close();
    }
  });

  it('two gateway instances sharing one budget never overspend under 200 concurrent calls', async () => {
    current = prefix();
    const prices = { 'gpt-4o-mini': { inputPerMTok: 1, outputPerMTok: 2 } };
    const req = (i: number): ChatCompletionRequest => ({
      model: 'gpt-4o-mini',
      max_tokens: 40,
      messages: [{ role: 'user', content: `Question number ${i}: what is the capital of France?` }],
    });
    // Price one call: the estimate (reserved before) and what the mock bills (settled after).
    const probe = tokenOptimizer({ prices });
    const estimate = toMicros(probe.estimateCost(req(100)).usd!);
    probe.tokens.free();
    const text = req(100).messages[0]!.content as string;
    const actual = toMicros((countMockTokens(text) + 4 + 2 * countMockTokens(mockAnswerText(text))) / 1e6);
    expect(estimate).toBeGreaterThan(actual);

    // A limit of ~50 estimates: enough for 50 calls even if all of them are in flight at once,
    // and far fewer than the 200 calls made.
    const limitMicros = 50 * estimate + 7;
    const limited = (usd: number) =>
      tokenOptimizer({
        prices,
        budget: { tenants: { acme: { dailyUsd: usd } }, store: redisBudgetStore({ prefix: current }) },
      });
    const pluginA = limited(limitMicros / 1e6);
    const a = h.gateway([pluginA]);
    const b = h.gateway([limited(limitMicros / 1e6)]);
    await Promise.all([a.ready(), b.ready()]);

    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).complete(req(100 + (i % 10)), { metadata: { tenant: 'acme' } }),
      ),
    );
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    for (const err of refused) {
      expect(err).toBeInstanceOf(BudgetExceededError);
      expect(err).toMatchObject({ scope: 'day', tenant: 'acme' });
    }
    const spentMicros = ok.reduce((sum, r) => sum + toMicros(r.flowgate.cost!.usd!), 0);
    expect(ok.every((r) => toMicros(r.flowgate.cost!.usd!) === actual)).toBe(true);

    // Never over the limit, what was refused was refused for a reason, and the books balance.
    expect(spentMicros).toBeLessThanOrEqual(limitMicros);
    expect(ok.length).toBeGreaterThanOrEqual(Math.floor(limitMicros / estimate));
    expect(refused.length).toBeGreaterThan(0);
    expect(ok.length + refused.length).toBe(200);
    expect(h.mock.stats().requests).toBe(ok.length);
    const day = new Date().toISOString().slice(0, 10);
    const counter = Number(await redis.get(`${current}{acme}:day:${day}`));
    expect(counter).toBe(spentMicros);
    const state = await pluginA.budgetState('acme');
    expect(state).toMatchObject({ tenant: 'acme', store: 'redis', day: { period: day } });
    expect(state.day.spentUsd).toBeCloseTo(spentMicros / 1e6, 12);
    expect(state.day.limitUsd).toBeCloseTo(limitMicros / 1e6, 12);
  });
});
