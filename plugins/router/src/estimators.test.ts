import {
  AbortError,
  ConnectionError,
  ContentFilterError,
  ContextLengthError,
  InvalidRequestError,
  MalformedResponseError,
  RateLimitError,
  StreamTruncatedError,
  TimeoutError,
  UpstreamAuthError,
  UpstreamClientError,
  UpstreamServerError,
} from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { resolveRetry, retryDelay } from './backoff.js';
import { defaultErrorAction, isHealthFailure } from './error-policy.js';
import { CircuitOpenError, HedgeLostError } from './errors.js';
import { DecayingEwma, PeakEwma } from './ewma.js';
import { RetryBudget } from './retry-budget.js';

describe('DecayingEwma', () => {
  it('weighs new samples by alpha and decays toward zero while idle', () => {
    const e = new DecayingEwma(0.5, 1000);
    expect(e.read(0)).toBeUndefined();
    e.record(100, 0);
    expect(e.read(0)).toBe(100);
    e.record(200, 0);
    expect(e.read(0)).toBe(150);
    expect(e.read(1000)).toBeCloseTo(75); // one half-life idle
    expect(e.read(3000)).toBeCloseTo(18.75);
  });

  it('lets a recovered deployment shed its old estimate: after a long pause a new sample counts almost fully', () => {
    const e = new DecayingEwma(0.3, 1000);
    for (let t = 0; t < 100; t++) e.record(500, t); // slow for a while
    e.record(50, 100 + 10_000); // recovered, ten half-lives later
    expect(e.read(10_100)!).toBeLessThan(51);
    const busy = new DecayingEwma(0.3, 1000);
    for (let t = 0; t < 100; t++) busy.record(500, t);
    busy.record(50, 101); // no pause: one fast sample moves it by alpha only
    expect(busy.read(101)!).toBeCloseTo(365, 0);
  });
});

describe('PeakEwma', () => {
  it('jumps to a slower sample at once and comes down gradually', () => {
    const e = new PeakEwma(1000);
    e.record(10, 0);
    e.record(100, 1);
    expect(e.read(1)).toBe(100);
    e.record(10, 1001); // one time constant later
    expect(e.read(1001)!).toBeCloseTo(10 + 90 * Math.exp(-1), 5);
    expect(e.read(3001)!).toBeLessThan(e.read(1001)!);
  });
});

describe('default error policy', () => {
  it('retries transient failures, falls back past deployment problems, and stops on the caller’s own mistakes', () => {
    const cases: [unknown, string][] = [
      [new RateLimitError('429'), 'retry'],
      [new UpstreamServerError('503', { status: 503 }), 'retry'],
      [new TimeoutError('t'), 'retry'],
      [new ConnectionError('reset'), 'retry'],
      [new MalformedResponseError('bad'), 'retry'],
      [new StreamTruncatedError('cut'), 'retry'],
      [new CircuitOpenError('a/m'), 'fallback'],
      [new UpstreamAuthError('401', { status: 401 }), 'fallback'],
      [new UpstreamClientError('no such model', { status: 404 }), 'fallback'],
      [new ContextLengthError('too long', { status: 400 }), 'larger-context'],
      [new ContentFilterError('policy', { status: 400 }), 'stop'],
      [new InvalidRequestError('messages', 'empty'), 'stop'],
      [new UpstreamClientError('bad request', { status: 400 }), 'stop'],
      [new AbortError(), 'stop'],
      [new HedgeLostError(), 'stop'],
      [new TypeError('a bug'), 'stop'],
    ];
    for (const [err, action] of cases) expect([err, defaultErrorAction(err)]).toEqual([err, action]);
  });

  it('counts only failures of the deployment against its health', () => {
    expect(isHealthFailure(new UpstreamServerError('503'))).toBe(true);
    expect(isHealthFailure(new RateLimitError('429'))).toBe(true);
    expect(isHealthFailure(new UpstreamAuthError('401'))).toBe(true);
    expect(isHealthFailure(new ContentFilterError('policy'))).toBe(false);
    expect(isHealthFailure(new AbortError())).toBe(false);
    expect(isHealthFailure(new HedgeLostError())).toBe(false);
    expect(isHealthFailure(new CircuitOpenError('a/m'))).toBe(false);
  });
});

describe('retry delay', () => {
  const o = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 });

  it('is full jitter: uniform in [0, min(max, base * 2^(n-1))]', () => {
    expect(retryDelay(1, undefined, o, () => 0)).toBe(0);
    expect(retryDelay(1, undefined, o, () => 0.999999)).toBe(100);
    expect(retryDelay(3, undefined, o, () => 0.5)).toBe(200);
    expect(retryDelay(10, undefined, o, () => 0.999999)).toBe(1000);
  });

  it('waits at least what Retry-After asked for, up to the cap', () => {
    expect(retryDelay(1, new RateLimitError('429', { retryAfterMs: 750 }), o, () => 0)).toBe(750);
    expect(retryDelay(1, new RateLimitError('429', { retryAfterMs: 60_000 }), o, () => 0)).toBe(5000);
    expect(retryDelay(4, new RateLimitError('429', { retryAfterMs: 10 }), o, () => 0.999999)).toBe(800);
  });
});

describe('retry budget', () => {
  it('allows retries up to ratio × recent calls plus the floor, and forgets old calls', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0, windowMs: 1000 });
    for (let i = 0; i < 100; i++) b.deposit(0);
    let granted = 0;
    for (let i = 0; i < 50; i++) if (b.tryWithdraw(10)) granted++;
    expect(granted).toBe(10);
    expect(b.tryWithdraw(500)).toBe(false);
    // A window later the old calls (and retries) are gone.
    expect(b.tryWithdraw(1200)).toBe(false);
    for (let i = 0; i < 20; i++) b.deposit(1200);
    expect(b.tryWithdraw(1200)).toBe(true);
    expect(b.tryWithdraw(1200)).toBe(true);
    expect(b.tryWithdraw(1200)).toBe(false);
  });

  it('has a floor so that a quiet service may still retry', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 2, windowMs: 1000 });
    expect([b.tryWithdraw(0), b.tryWithdraw(0), b.tryWithdraw(0)]).toEqual([true, true, false]);
  });
});
