import { ConfigError, RateLimitError } from '@flowgate/core';
import type { RetryBudgetOptions } from './retry-budget.js';

export interface RetryOptions {
  /** Retries per call after every deployment was tried once (fallbacks are not retries). Default 2. */
  maxRetries?: number;
  /** First backoff ceiling, ms; doubles per retry (full jitter: the delay is uniform in [0, ceiling]). Default 100. */
  baseDelayMs?: number;
  /** Largest backoff ceiling, ms. Default 2000. */
  maxDelayMs?: number;
  /** Longest `Retry-After` / `retry-after-ms` honored, ms; a longer one is cut to this. Default 10 000. */
  maxRetryAfterMs?: number;
  /** Caps retries to a fraction of recent calls; `false` turns it off. Default `{ ratio: 0.2, minPerSecond: 1 }`. */
  budget?: RetryBudgetOptions | false;
}

export interface ResolvedRetry {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

export function resolveRetry(options: RetryOptions | false | undefined): ResolvedRetry {
  if (options === false) return { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };
  const o = options ?? {};
  const r = {
    maxRetries: o.maxRetries ?? 2,
    baseDelayMs: o.baseDelayMs ?? 100,
    maxDelayMs: o.maxDelayMs ?? 2000,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 10_000,
  };
  if (!Number.isInteger(r.maxRetries) || r.maxRetries < 0)
    throw new ConfigError('retry.maxRetries must be an integer >= 0');
  for (const k of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!(r[k] >= 0) || !Number.isFinite(r[k])) throw new ConfigError(`retry.${k} must be a number >= 0`);
  }
  return r;
}

/**
 * Delay before retry number `retry` (1-based): exponential backoff with full jitter, but never less than
 * what the provider asked for with `Retry-After` / `retry-after-ms` (capped at `maxRetryAfterMs`).
 */
export function retryDelay(retry: number, error: unknown, o: ResolvedRetry, random: () => number): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (retry - 1));
  let delay = random() * ceiling;
  const asked = error instanceof RateLimitError ? error.retryAfterMs : undefined;
  if (asked !== undefined) delay = Math.max(delay, Math.min(asked, o.maxRetryAfterMs));
  return Math.round(delay);
}
