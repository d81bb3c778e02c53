import { ConfigError } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { tokenOptimizer } from './plugin.js';
import { bundledPrices, PriceTable } from './prices.js';

describe('bundled prices.json', () => {
  const file = bundledPrices();

  it('says when and where the prices were taken', () => {
    expect(file.takenAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(file.takenAt))).toBe(false);
    expect(file.source.length).toBeGreaterThan(20);
  });

  it('prices current OpenAI and Anthropic models, with limits, and loads without error', () => {
    const table = new PriceTable(file);
    for (const model of [
      'gpt-5.5',
      'gpt-5.4-mini',
      'gpt-4.1',
      'gpt-4o-mini',
      'o4-mini',
      'claude-opus-4-7',
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
    ]) {
      const p = table.priceOf(model);
      expect(p, model).toBeDefined();
      expect(p!.inputPerMTok).toBeGreaterThan(0);
      expect(p!.outputPerMTok).toBeGreaterThanOrEqual(p!.inputPerMTok);
      if (p!.cachedInputPerMTok !== undefined) expect(p!.cachedInputPerMTok).toBeLessThan(p!.inputPerMTok);
      expect(p!.contextWindow).toBeGreaterThan(p!.maxOutputTokens!);
    }
    for (const [model, info] of Object.entries(file.models)) {
      expect(info.provider === 'openai' || info.provider === 'anthropic', model).toBe(true);
    }
  });
});

describe('PriceTable', () => {
  const table = new PriceTable({
    takenAt: '2026-01-01',
    source: 'test',
    models: {
      'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
      'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
      'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75 },
    },
    aliases: { 'claude-opus-4-0': 'claude-opus-4' },
  });

  it('resolves dated, prefixed and aliased names, and nothing else', () => {
    expect(table.resolve('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(table.resolve('gpt-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(table.resolve('openai/gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(table.resolve('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(table.resolve('anthropic/claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(table.resolve('claude-opus-4-0')).toBe('claude-opus-4');
    expect(table.resolve('claude-opus-4-20250514')).toBe('claude-opus-4');
    // Near misses are not guessed: a wrong price is worse than a reported unknown one.
    expect(table.resolve('gpt-4o-mini-tts')).toBeUndefined();
    expect(table.resolve('gpt-4')).toBeUndefined();
    expect(table.priceOf('gpt-4o-audio-preview')).toBeUndefined();
  });

  it('is overridden and extended at runtime', () => {
    const t = new PriceTable(table.toJSON());
    t.set('gpt-4o', { inputPerMTok: 1, outputPerMTok: 4 });
    expect(t.priceOf('gpt-4o-2024-08-06')).toEqual({ inputPerMTok: 1, outputPerMTok: 4 });
    t.set('my-model', { inputPerMTok: 0.5, outputPerMTok: 1, contextWindow: 32_000 });
    expect(t.infoOf('my-model')?.contextWindow).toBe(32_000);
    expect(t.delete('my-model')).toBe(true);
    expect(t.has('my-model')).toBe(false);
    expect(table.priceOf('gpt-4o')?.inputPerMTok).toBe(2.5);
  });

  it('rejects malformed prices with a ConfigError', () => {
    const t = new PriceTable();
    expect(() => t.set('m', { inputPerMTok: -1, outputPerMTok: 1 })).toThrow(ConfigError);
    expect(() => t.set('m', { inputPerMTok: 1 } as never)).toThrow(/outputPerMTok/);
    expect(() => t.set('m', { inputPerMTok: 1, outputPerMTok: Number.NaN })).toThrow(ConfigError);
    expect(() => t.set('m', { inputPerMTok: 1, outputPerMTok: 1, contextWindow: 1.5 })).toThrow(/contextWindow/);
    expect(() => tokenOptimizer({ prices: { m: { inputPerMTok: 1, outputPerMTok: '2' as never } } })).toThrow(
      ConfigError,
    );
  });

  it('lets options override the bundled table, or replace it', () => {
    const merged = tokenOptimizer({ prices: { 'gpt-4o': { inputPerMTok: 9, outputPerMTok: 9 } } });
    expect(merged.prices.priceOf('gpt-4o')?.inputPerMTok).toBe(9);
    expect(merged.prices.priceOf('claude-haiku-4-5')).toBeDefined();
    expect(merged.prices.takenAt).toBe(bundledPrices().takenAt);
    const own = tokenOptimizer({ bundledPrices: false, prices: { x: { inputPerMTok: 1, outputPerMTok: 1 } } });
    expect(own.prices.list()).toEqual(['x']);
  });
});
