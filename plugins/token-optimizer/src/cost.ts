import type { Usage } from '@flowgate/core';
import type { ModelPrice } from './prices.js';

/** What one call cost, from the usage the provider reported. Set as `response.flowgate.cost`. */
export interface CostInfo {
  /** USD; `undefined` when the model has no price (then `priced` is false). */
  usd: number | undefined;
  /** Prompt tokens, cached and cache-write tokens included. */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the provider's prompt cache (billed at the cached price). */
  cachedTokens: number;
  /** Anthropic prompt-cache writes (billed at the cache-write price). */
  cacheCreationTokens: number;
  /** The model that was billed (the response's model). */
  model: string;
  priced: boolean;
}

const PER_MTOK = 1_000_000;

/**
 * Cost of a call from its reported usage. `prompt_tokens` includes cached and cache-write tokens
 * (the providers package maps Anthropic's split usage that way), so the uncached rest pays the input
 * price; reasoning tokens are part of `completion_tokens` and pay the output price.
 */
export function costOf(usage: Usage, model: string, price: ModelPrice | undefined): CostInfo {
  const inputTokens = usage.prompt_tokens;
  const outputTokens = usage.completion_tokens;
  const cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheCreationTokens = usage.prompt_tokens_details?.cache_creation_tokens ?? 0;
  if (!price) {
    return { usd: undefined, inputTokens, outputTokens, cachedTokens, cacheCreationTokens, model, priced: false };
  }
  const uncached = Math.max(0, inputTokens - cachedTokens - cacheCreationTokens);
  const usd =
    (uncached * price.inputPerMTok +
      cachedTokens * (price.cachedInputPerMTok ?? price.inputPerMTok) +
      cacheCreationTokens * (price.cacheWritePerMTok ?? price.inputPerMTok) +
      outputTokens * price.outputPerMTok) /
    PER_MTOK;
  return { usd, inputTokens, outputTokens, cachedTokens, cacheCreationTokens, model, priced: true };
}

/**
 * Upper-bound estimate of a call before it is made: every prompt token at the full input price (no
 * cache discount) and every allowed output token at the output price.
 */
export function estimateUsd(promptTokens: number, maxOutputTokens: number, price: ModelPrice): number {
  return (promptTokens * price.inputPerMTok + maxOutputTokens * price.outputPerMTok) / PER_MTOK;
}

/**
 * USD to whole micro-dollars, rounded up: budget stores count integers so that Redis increments are
 * exact, and rounding up never lets rounding hide spend. (Rounded to nano-dollars first so that float
 * noise such as 100.00000000000001 does not cost a whole micro-dollar.)
 */
export function toMicros(usd: number): number {
  return Math.ceil(Math.round(usd * 1e9) / 1000);
}

export function fromMicros(micros: number): number {
  return micros / 1e6;
}
