import { type ChatCompletionRequest, type Plugin, responseReply } from '@flowgate/core';
import { countMockTokens, mockAnswerText } from '@flowgate/mock-provider';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, points, startHarness, telemetry } from './harness.test-util.js';
import { tokenOptimizer } from './plugin.js';
import type { ModelPrice } from './prices.js';
import { encoderRefs, tiktokenEncoder } from './tokenizer.js';
import { formatUsageReport } from './usage-report.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    models: {
      'gpt-4o-mini': { cachedTokens: 10 },
      'claude-haiku-4-5': { cachedTokens: 5, cacheCreationTokens: 4 },
    },
  });
});
afterAll(() => h.close());
afterEach(() => h.mock.reset());

const QUESTION = 'What is the answer to everything?';
const ask = (model: string, question = QUESTION): ChatCompletionRequest => ({
  model,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: question },
  ],
});
// The mock's deterministic usage: prompt = words + 4 per message; completion = words of its answer.
const PROMPT = 3 + 4 + (countMockTokens(QUESTION) + 4);
const COMPLETION = countMockTokens(mockAnswerText(QUESTION));

// Round prices so the expected cost is exact arithmetic.
const prices: Record<string, ModelPrice> = {
  'gpt-4o-mini': { inputPerMTok: 1, cachedInputPerMTok: 0.5, outputPerMTok: 2 },
  'claude-haiku-4-5': { inputPerMTok: 3, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
};

describe('cost from the provider-reported usage', () => {
  it('prices OpenAI usage exactly, cached tokens at the cached price, whole and streamed', async () => {
    const t = telemetry();
    const plugin = tokenOptimizer({ prices });
    const gw = h.gateway([plugin], t);
    expect(PROMPT).toBe(17);
    expect(COMPLETION).toBe(9);
    const expected = ((PROMPT - 10) * 1 + 10 * 0.5 + COMPLETION * 2) / 1e6;

    const whole = await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    expect(whole.flowgate.cost).toEqual({
      usd: expect.closeTo(expected, 15),
      inputTokens: PROMPT,
      outputTokens: COMPLETION,
      cachedTokens: 10,
      cacheCreationTokens: 0,
      model: 'gpt-4o-mini',
      priced: true,
    });
    const stream = gw.stream(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    for await (const _ of stream) {
      // read to the end
    }
    expect((await stream.response).flowgate.cost?.usd).toBeCloseTo(expected, 15);

    const spans = await t.spans();
    const callSpans = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    expect(callSpans).toHaveLength(2);
    for (const s of callSpans) {
      expect(s.attributes['flowgate.cost.usd']).toBeCloseTo(expected, 15);
      expect(s.attributes['flowgate.cost.priced']).toBe(true);
    }
    const cost = points(await t.metrics(), 'flowgate.cost.usd');
    expect(cost).toHaveLength(1);
    expect(cost[0]!.attributes).toEqual({
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.provider.name': 'openai',
      'flowgate.tenant': 'acme',
    });
    expect(cost[0]!.value).toBeCloseTo(2 * expected, 15);
  });

  it('prices Anthropic usage: cache reads and cache writes at their own prices', async () => {
    const t = telemetry();
    const gw = h.gateway([tokenOptimizer({ prices })], t);
    const res = await gw.complete(ask('claude-haiku-4-5'));
    // input_tokens + cache_read + cache_creation = prompt; uncached = 17 - 5 - 4 = 8.
    const expected = (8 * 3 + 5 * 0.3 + 4 * 3.75 + COMPLETION * 15) / 1e6;
    expect(res.flowgate.cost).toMatchObject({
      inputTokens: PROMPT,
      cachedTokens: 5,
      cacheCreationTokens: 4,
      outputTokens: COMPLETION,
      priced: true,
    });
    expect(res.flowgate.cost?.usd).toBeCloseTo(expected, 15);
    const cost = points(await t.metrics(), 'flowgate.cost.usd');
    expect(cost[0]!.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(cost[0]!.attributes['flowgate.tenant']).toBeUndefined();
  });

  it('uses the bundled price table by default (a dated model name resolves to its entry)', async () => {
    const plugin = tokenOptimizer();
    const gw = h.gateway([plugin]);
    const res = await gw.complete(ask('gpt-4o-mini-2024-07-18'));
    const p = plugin.prices.priceOf('gpt-4o-mini')!;
    // The mock caches prompt tokens for `gpt-4o-mini` only, not for the dated name.
    const expected = (PROMPT * p.inputPerMTok + COMPLETION * p.outputPerMTok) / 1e6;
    expect(res.flowgate.cost?.model).toBe('gpt-4o-mini-2024-07-18');
    expect(res.flowgate.cost?.cachedTokens).toBe(0);
    expect(res.flowgate.cost?.usd).toBeCloseTo(expected, 15);
  });

  it('prices nothing when no provider was called (an answer from a cache)', async () => {
    const cached: Plugin = {
      name: 'fake-cache',
      setup(host) {
        host.useCall(async () =>
          responseReply({
            id: 'cached',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hit' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 100, completion_tokens: 100, total_tokens: 200 },
          }),
        );
      },
    };
    const plugin = tokenOptimizer({ prices });
    const gw = h.gateway([cached, plugin]);
    const res = await gw.complete(ask('gpt-4o-mini'));
    expect(res.flowgate.attempts).toHaveLength(0);
    expect(res.flowgate.cost).toBeUndefined();
    expect(plugin.usageReport().rows).toHaveLength(0);
  });
});

describe('unknown models', () => {
  let warnings: string[];
  const logger: DiagLogger = {
    error: () => {},
    warn: (m: string) => warnings.push(m),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  afterEach(() => diag.disable());

  it('are reported (metric + one warning per model), never priced at zero', async () => {
    warnings = [];
    diag.setLogger(logger, DiagLogLevel.WARN);
    const t = telemetry();
    const plugin = tokenOptimizer({ prices });
    const gw = h.gateway([plugin], t);
    const a = await gw.complete(ask('mystery-model-1'));
    await gw.complete(ask('mystery-model-1'));
    await gw.complete(ask('mystery-model-2'));
    expect(a.flowgate.cost).toMatchObject({
      usd: undefined,
      priced: false,
      inputTokens: PROMPT,
      model: 'mystery-model-1',
    });
    const unpriced = points(await t.metrics(), 'flowgate.cost.unpriced');
    const byModel = Object.fromEntries(unpriced.map((p) => [p.attributes['gen_ai.request.model'], p.value]));
    expect(byModel).toEqual({ 'mystery-model-1': 2, 'mystery-model-2': 1 });
    expect(points(await t.metrics(), 'flowgate.cost.usd')).toHaveLength(0);
    expect(warnings.filter((w) => w.includes('"mystery-model-1"'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('"mystery-model-2"'))).toHaveLength(1);
    const call = (await t.spans()).find((s) => s.name === 'chat mystery-model-1')!;
    expect(call.attributes['flowgate.cost.priced']).toBe(false);
    expect(call.attributes['flowgate.cost.usd']).toBeUndefined();
    const row = plugin.usageReport().rows.find((r) => r.model === 'mystery-model-1')!;
    expect(row).toMatchObject({ requests: 2, unpricedRequests: 2, costUsd: 0 });
  });

  it('are priced once the table learns them at runtime', async () => {
    const plugin = tokenOptimizer({ prices });
    const gw = h.gateway([plugin]);
    plugin.prices.set('mystery-model-3', { inputPerMTok: 1, outputPerMTok: 1 });
    const res = await gw.complete(ask('mystery-model-3'));
    expect(res.flowgate.cost?.usd).toBeCloseTo((PROMPT + COMPLETION) / 1e6, 15);
  });
});

describe('usage report', () => {
  it('sums requests, tokens and cost per tenant, app tag and model, with averages', async () => {
    const plugin = tokenOptimizer({ prices });
    const gw = h.gateway([plugin]);
    const chat = { metadata: { tenant: 'acme', tags: { app: 'chat' } } };
    await gw.complete(ask('gpt-4o-mini'), chat);
    await gw.complete(ask('gpt-4o-mini', 'Short one?'), chat);
    await gw.complete(ask('claude-haiku-4-5'), { metadata: { tenant: 'acme', tags: { app: 'search' } } });
    await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'globex' } });
    await gw.complete(ask('gpt-4o-mini'));

    const report = plugin.usageReport();
    const row = (tenant: string, app: string, model: string) =>
      report.rows.find((r) => r.tenant === tenant && r.app === app && r.model === model);
    const openaiCost = ((PROMPT - 10) * 1 + 10 * 0.5 + COMPLETION * 2) / 1e6;
    const shortPrompt = 7 + (2 + 4);
    const shortCompletion = countMockTokens(mockAnswerText('Short one?'));
    const shortCost = ((shortPrompt - 10) * 1 + 10 * 0.5 + shortCompletion * 2) / 1e6;
    expect(row('acme', 'chat', 'gpt-4o-mini')).toMatchObject({
      requests: 2,
      inputTokens: PROMPT + shortPrompt,
      cachedTokens: 20,
      outputTokens: COMPLETION + shortCompletion,
      avgInputTokens: (PROMPT + shortPrompt) / 2,
      avgOutputTokens: (COMPLETION + shortCompletion) / 2,
      unpricedRequests: 0,
    });
    expect(row('acme', 'chat', 'gpt-4o-mini')!.costUsd).toBeCloseTo(openaiCost + shortCost, 15);
    expect(row('acme', 'chat', 'gpt-4o-mini')!.avgCostUsd).toBeCloseTo((openaiCost + shortCost) / 2, 15);
    expect(row('acme', 'search', 'claude-haiku-4-5')?.requests).toBe(1);
    expect(row('globex', '-', 'gpt-4o-mini')?.requests).toBe(1);
    expect(row('-', '-', 'gpt-4o-mini')?.requests).toBe(1);
    expect(report.rows).toHaveLength(4);
    expect(report.rows[0]!.model).toBe('claude-haiku-4-5');
    expect(report.totals.requests).toBe(5);
    expect(report.totals.avgLatencyMs).toBeGreaterThan(0);
    const today = plugin.adminSummary();
    expect(today.day).toBe(new Date().toISOString().slice(0, 10));
    expect(today.costTodayUsd).toBeCloseTo(report.totals.costUsd, 15);
    expect(today.costTodayByModel['gpt-4o-mini']).toBeCloseTo(
      report.rows.filter((r) => r.model === 'gpt-4o-mini').reduce((sum, r) => sum + r.costUsd, 0),
      15,
    );
    const text = formatUsageReport(report);
    expect(text.split('\n')).toHaveLength(2 + 4 + 1);
    expect(text).toMatch(/^acme\s+search\s+claude-haiku-4-5\s+1\s/m);
    expect(text).toMatch(/^total\s+5\s/m);
    plugin.resetUsage();
    expect(plugin.usageReport().rows).toHaveLength(0);
  });
});

describe('when the plugin itself fails', () => {
  it('lets the call through without its decision, and counts the failure', async () => {
    const t = telemetry();
    const broken = tokenOptimizer({
      prices,
      budget: { perRequestUsd: 0.000001, tenant: { dailyUsd: 1 } },
      tokenizer: {
        encoder: () => ({
          count: () => {
            throw new Error('tokenizer exploded');
          },
        }),
      },
    });
    const gw = h.gateway([broken], t);
    const res = await gw.complete(ask('gpt-4o-mini'), { metadata: { tenant: 'acme' } });
    expect(res.flowgate.cost?.priced).toBe(true);
    const errors = points(await t.metrics(), 'flowgate.token_optimizer.errors');
    expect(Object.fromEntries(errors.map((p) => [p.attributes['flowgate.token_optimizer.stage'], p.value]))).toEqual({
      'warm-up': 1,
      request: 1,
      budget: 1,
    });
  });

  it('rejects malformed per-call options with a typed error', async () => {
    const gw = h.gateway([tokenOptimizer({ prices })]);
    await expect(gw.complete(ask('gpt-4o-mini'), { tokenOptimizer: { budgetUsd: -1 } })).rejects.toMatchObject({
      code: 'FLOWGATE_ERR_CONFIG',
    });
    await expect(
      gw.complete(ask('gpt-4o-mini'), { tokenOptimizer: { context: 'shrink' as never } }),
    ).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
    expect(h.mock.stats().requests).toBe(0);
  });
});

describe('lifecycle', () => {
  it("counts a counted call's answer in the background, so the next turn finds it memoized", async () => {
    const plugin = tokenOptimizer({ prices, budget: { perRequestUsd: 1 } });
    const gw = h.gateway([plugin]);
    const first = ask('gpt-4o-mini');
    const res = await gw.complete(first);
    await new Promise((r) => setImmediate(r));
    const { misses } = plugin.tokens.stats();
    const answer = res.choices[0]!.message.content!;
    await gw.complete({
      ...first,
      messages: [...first.messages, { role: 'assistant', content: answer }, { role: 'user', content: 'And why?' }],
    });
    // Only the new question (and the role name `assistant`, new to this counter) had to be encoded:
    // the answer was pre-counted.
    expect(plugin.tokens.stats().misses).toBe(misses + 2);

    const lazy = tokenOptimizer({ prices, budget: { perRequestUsd: 1 }, tokenizer: { prewarm: false } });
    const gw2 = h.gateway([lazy]);
    await gw2.complete(first);
    await new Promise((r) => setImmediate(r));
    const before = lazy.tokens.stats().misses;
    await gw2.complete({
      ...first,
      messages: [...first.messages, { role: 'assistant', content: answer }, { role: 'user', content: 'And why?' }],
    });
    expect(lazy.tokens.stats().misses).toBe(before + 3);
  });

  it('pre-counts the answers of concurrent calls in one batch, each of them', async () => {
    const plugin = tokenOptimizer({ prices, budget: { perRequestUsd: 1 } });
    const gw = h.gateway([plugin]);
    const questions = ['Why is the sky blue?', 'How do tides work?', 'What makes a rainbow?'];
    const answers = await Promise.all(
      questions.map((q) => gw.complete({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] })),
    );
    await new Promise((r) => setImmediate(r));
    const { misses } = plugin.tokens.stats();
    const { encoding } = plugin.tokens.tokenizerFor('gpt-4o-mini');
    for (const res of answers) plugin.tokens.text(res.choices[0]!.message.content!, encoding);
    expect(new Set(answers.map((r) => r.choices[0]!.message.content)).size).toBe(3);
    expect(plugin.tokens.stats().misses).toBe(misses);
  });

  it('releases its tiktoken encoder at gateway close', async () => {
    const plugin = tokenOptimizer({ prices, tokenizer: { encoder: tiktokenEncoder } });
    const gw = h.gateway([plugin]);
    const refs = encoderRefs('o200k_base');
    await gw.complete(ask('gpt-4o-mini'), { tokenOptimizer: { budgetUsd: 1 } });
    expect(plugin.tokens.stats().encoders).toBe(1);
    expect(encoderRefs('o200k_base')).toBe(refs + 1);
    await gw.close();
    expect(encoderRefs('o200k_base')).toBe(refs);
  });
});

describe('the price table on the plugin', () => {
  it('is found by other plugins via host.getPlugin and duck-types priceOf(model)', () => {
    let seen: unknown;
    const probe: Plugin = {
      name: 'router-probe',
      dependsOn: ['token-optimizer'],
      setup(host) {
        const optimizer = host.getPlugin<Plugin & { prices: { priceOf(m: string): unknown } }>('token-optimizer');
        seen = optimizer?.prices.priceOf('gpt-4o-mini');
      },
    };
    h.gateway([tokenOptimizer({ prices }), probe]);
    expect(seen).toMatchObject({ inputPerMTok: 1, cachedInputPerMTok: 0.5, outputPerMTok: 2 });
  });

  it('estimates a request before it is sent', () => {
    const plugin = tokenOptimizer({ prices });
    const e = plugin.estimateCost({ ...ask('gpt-4o-mini'), max_tokens: 100 });
    const promptTokens = plugin.countTokens(ask('gpt-4o-mini')).total;
    expect(e).toEqual({
      model: 'gpt-4o-mini',
      promptTokens,
      maxOutputTokens: 100,
      usd: expect.closeTo((promptTokens * 1 + 100 * 2) / 1e6, 15),
      priced: true,
    });
    expect(plugin.estimateCost(ask('mystery')).priced).toBe(false);
    plugin.tokens.free();
  });
});
