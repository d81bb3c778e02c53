import { describe, expect, it } from 'vitest';
import { costOf, estimateUsd, fromMicros, toMicros } from './cost.js';

describe('costOf', () => {
  const usage = {
    prompt_tokens: 1000,
    completion_tokens: 200,
    total_tokens: 1200,
    prompt_tokens_details: { cached_tokens: 600, cache_creation_tokens: 100 },
  };

  it('bills uncached, cached, cache-write and output tokens at their own prices', () => {
    const c = costOf(usage, 'm', {
      inputPerMTok: 3,
      cachedInputPerMTok: 0.3,
      cacheWritePerMTok: 3.75,
      outputPerMTok: 15,
    });
    expect(c.usd).toBeCloseTo((300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6, 15);
    expect(c).toMatchObject({ inputTokens: 1000, cachedTokens: 600, cacheCreationTokens: 100, outputTokens: 200 });
  });

  it('falls back to the input price for cached and cache-write tokens without a price of their own', () => {
    expect(costOf(usage, 'm', { inputPerMTok: 2, outputPerMTok: 8 }).usd).toBeCloseTo((1000 * 2 + 200 * 8) / 1e6, 15);
  });

  it('leaves an unpriced model without a cost rather than at zero', () => {
    expect(costOf(usage, 'm', undefined)).toMatchObject({ usd: undefined, priced: false, inputTokens: 1000 });
  });

  it('estimates every prompt token at the input price and every allowed output token at the output price', () => {
    expect(estimateUsd(100, 50, { inputPerMTok: 1, cachedInputPerMTok: 0.1, outputPerMTok: 4 })).toBeCloseTo(
      300 / 1e6,
      15,
    );
  });
});

describe('micro-dollars', () => {
  it('round up, but not for float noise', () => {
    expect(toMicros(0.0001)).toBe(100);
    expect(toMicros(0.000105)).toBe(105);
    expect(toMicros(0.0000001)).toBe(1);
    expect(toMicros(0)).toBe(0);
    expect(toMicros((17 + 18) / 1e6)).toBe(35);
    expect(fromMicros(35)).toBe(0.000035);
  });
});
