import type { ChatCompletionRequest, FunctionTool } from '@flowgate/core';
import { ConfigError } from '@flowgate/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimateComplexity } from './complexity.js';
import { type Harness, points, startHarness, telemetry } from './harness.test-util.js';
import { chooseTier, type ModelTier, type TierCandidate, validateSelection } from './model-selection.js';
import { tokenOptimizer } from './plugin.js';

const tiers: ModelTier[] = [
  { model: 'gpt-4.1-nano', quality: 0.3, speed: 200 },
  { model: 'gpt-4o-mini', quality: 0.5, speed: 120 },
  { model: 'gpt-4.1', quality: 0.8, speed: 80 },
  { model: 'gpt-5.5', quality: 0.95, speed: 40 },
];

const tool: FunctionTool = {
  type: 'function',
  function: { name: 'run_tests', description: 'Run the test suite', parameters: { type: 'object', properties: {} } },
};
const simple: ChatCompletionRequest = {
  model: 'auto',
  max_tokens: 50,
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
};
const codeQuestion =
  'Explain step by step why this function is slow, and compare two designs with their trade-offs:\n' +
  '```ts\nfunction sum(xs: number[]) {\n  let s = 0;\n  for (const x of xs) s = s + xs.indexOf(x);\n  return s;\n}\n```';
const moderate: ChatCompletionRequest = { ...simple, messages: [{ role: 'user', content: codeQuestion }] };
const complex: ChatCompletionRequest = { ...moderate, tools: [tool] };

describe('estimateComplexity', () => {
  it('scores length, code, reasoning cues and tools', () => {
    const s = estimateComplexity(simple, 14);
    expect(s).toMatchObject({ code: 0, reasoning: 0, tools: 0 });
    expect(s.score).toBeLessThan(0.1);
    const m = estimateComplexity(moderate, 70);
    expect(m).toMatchObject({ code: 1, reasoning: 1, tools: 0 });
    expect(m.score).toBeGreaterThan(0.3);
    expect(m.score).toBeLessThan(0.7);
    const c = estimateComplexity(complex, 90);
    expect(c.tools).toBe(1);
    expect(c.score).toBeGreaterThanOrEqual(0.7);
    expect(estimateComplexity(simple, 10_000).length).toBe(1);
  });

  it('sees code without fences', () => {
    const r = estimateComplexity(
      { ...simple, messages: [{ role: 'user', content: 'import os\ndef main():\n  pass' }] },
      20,
    );
    expect(r.code).toBe(1);
  });
});

describe('chooseTier', () => {
  const s = validateSelection({ tiers });
  // Estimates proportional to price; every tier fits the context.
  const candidates: TierCandidate[] = tiers.map((t, i) => ({
    ...t,
    estimateUsd: [0.0001, 0.0002, 0.002, 0.01][i]!,
    fitsContext: true,
  }));

  it('sends simple requests to the fastest adequate tier', () => {
    expect(chooseTier('auto', 0.05, candidates, undefined, s)).toMatchObject({
      model: 'gpt-4.1-nano',
      strategy: 'fastest',
    });
    // A quality floor above the nano tier moves it up.
    expect(
      chooseTier('auto', 0.29, [{ ...candidates[0]!, quality: 0.2 }, ...candidates.slice(1)], undefined, s).model,
    ).toBe('gpt-4o-mini');
  });

  it('sends moderate requests to the cheapest tier whose quality covers the complexity', () => {
    expect(chooseTier('auto', 0.45, candidates, undefined, s)).toMatchObject({
      model: 'gpt-4o-mini',
      strategy: 'cheapest-adequate',
    });
    expect(chooseTier('auto', 0.6, candidates, undefined, s).model).toBe('gpt-4.1');
  });

  it('sends hard requests to the highest quality within budget', () => {
    expect(chooseTier('auto', 0.8, candidates, undefined, s)).toMatchObject({
      model: 'gpt-5.5',
      strategy: 'highest-quality',
    });
    const within = chooseTier('auto', 0.8, candidates, 0.005, s);
    expect(within.model).toBe('gpt-4.1');
    expect(within.reason).toContain('budget');
  });

  it('skips tiers whose context window is too small, and falls back to the cheapest when nothing fits the budget', () => {
    const small = candidates.map((c) => (c.model === 'gpt-5.5' ? { ...c, fitsContext: false } : c));
    expect(chooseTier('auto', 0.9, small, undefined, s).model).toBe('gpt-4.1');
    expect(chooseTier('auto', 0.9, candidates, 0.00001, s)).toMatchObject({
      model: 'gpt-4.1-nano',
      strategy: 'fallback',
    });
  });

  it('validates the configuration', () => {
    expect(() => validateSelection({ tiers: [] })).toThrow(ConfigError);
    expect(() => validateSelection({ tiers: [{ model: 'm', quality: 2, speed: 1 }] })).toThrow(/quality/);
    expect(() => validateSelection({ tiers, simpleBelow: 0.8, complexAbove: 0.5 })).toThrow(ConfigError);
  });
});

describe('model selection in the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  afterEach(() => h.mock.reset());

  it('rewrites an `auto` request to the chosen model, with the choice on the span and in meta', async () => {
    const t = telemetry();
    const gw = h.gateway([tokenOptimizer({ selection: { tiers } })], t);
    const fast = await gw.complete(simple);
    const hard = await gw.complete(complex);
    const middle = await gw.complete(moderate);
    expect(fast.model).toBe('gpt-4.1-nano');
    expect(hard.model).toBe('gpt-5.5');
    expect(middle.model).toBe('gpt-4.1');
    expect(h.mock.stats().byModel).toEqual({ 'gpt-4.1-nano': 1, 'gpt-5.5': 1, 'gpt-4.1': 1 });
    expect(fast.flowgate.modelSelection).toMatchObject({ alias: 'auto', model: 'gpt-4.1-nano', strategy: 'fastest' });
    expect(fast.flowgate.cost?.model).toBe('gpt-4.1-nano');
    const span = (await t.spans()).find(
      (s) => s.name === 'chat auto' && s.attributes['gen_ai.response.model'] === 'gpt-5.5',
    )!;
    expect(span.attributes).toMatchObject({
      'flowgate.model_selection.alias': 'auto',
      'flowgate.model_selection.model': 'gpt-5.5',
      'flowgate.model_selection.strategy': 'highest-quality',
    });
    expect(span.attributes['flowgate.model_selection.reason']).toMatch(/complex/);
    expect(typeof span.attributes['flowgate.model_selection.complexity']).toBe('number');
    const choices = points(await t.metrics(), 'flowgate.model_selection.choices');
    expect(choices.reduce((n, p) => n + p.value, 0)).toBe(3);
  });

  it('keeps a hard request within the per-request budget', async () => {
    const plugin = tokenOptimizer({ selection: { tiers }, budget: { perRequestUsd: 0.0015 } });
    const gw = h.gateway([plugin]);
    const hard = { ...complex, max_tokens: 100 };
    // 100 output tokens cost $0.003 on gpt-5.5 alone; gpt-4.1 stays under $0.0015.
    expect(plugin.estimateCost({ ...hard, model: 'gpt-5.5' }).usd).toBeGreaterThan(0.0015);
    expect(plugin.estimateCost({ ...hard, model: 'gpt-4.1' }).usd).toBeLessThan(0.0015);
    const res = await gw.complete(hard);
    expect(res.model).toBe('gpt-4.1');
    expect(res.flowgate.budget?.estimateUsd).toBeLessThanOrEqual(0.0015);
  });

  it('leaves other models alone', async () => {
    const gw = h.gateway([tokenOptimizer({ selection: { tiers } })]);
    const res = await gw.complete({ ...simple, model: 'gpt-4o' });
    expect(res.model).toBe('gpt-4o');
    expect(res.flowgate.modelSelection).toBeUndefined();
  });
});
