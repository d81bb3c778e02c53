import { ConfigError } from '@flowgate/core';

export interface RetryBudgetOptions {
  /** Retries allowed per call started, over the window. Default 0.2 (at most 20% extra load). */
  ratio?: number;
  /** Retries always allowed per second, so that a quiet service can still retry. Default 1. */
  minPerSecond?: number;
  /** Sliding window, ms. Default 10 000. */
  windowMs?: number;
}

const SLOTS = 10;

/**
 * A retry budget (Finagle's idea): retries may be at most `ratio` of the calls started in the recent
 * window, plus a small floor. During an outage every call fails, and without a budget each would be sent
 * `1 + maxRetries` times; with it the extra load stays at `ratio`.
 */
export class RetryBudget {
  private readonly calls = new Float64Array(SLOTS);
  private readonly retries = new Float64Array(SLOTS);
  private readonly slotMs: number;
  private readonly ratio: number;
  private readonly floor: number;
  private slot = 0;
  private slotStart = Number.NEGATIVE_INFINITY;

  constructor(options: RetryBudgetOptions = {}) {
    const ratio = options.ratio ?? 0.2;
    const minPerSecond = options.minPerSecond ?? 1;
    const windowMs = options.windowMs ?? 10_000;
    if (!(ratio >= 0) || !Number.isFinite(ratio)) throw new ConfigError('retry.budget.ratio must be a number >= 0');
    if (!(minPerSecond >= 0) || !Number.isFinite(minPerSecond)) {
      throw new ConfigError('retry.budget.minPerSecond must be a number >= 0');
    }
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new ConfigError('retry.budget.windowMs must be > 0');
    this.ratio = ratio;
    this.slotMs = windowMs / SLOTS;
    this.floor = (minPerSecond * windowMs) / 1000;
  }

  /** A call started: it earns `ratio` of a retry. */
  deposit(now: number): void {
    this.roll(now);
    this.calls[this.slot]!++;
  }

  /** Takes one retry from the budget; false when the window's retries are used up. */
  tryWithdraw(now: number): boolean {
    this.roll(now);
    let calls = 0;
    let retries = 0;
    for (let i = 0; i < SLOTS; i++) {
      calls += this.calls[i]!;
      retries += this.retries[i]!;
    }
    if (retries + 1 > calls * this.ratio + this.floor) return false;
    this.retries[this.slot]!++;
    return true;
  }

  private roll(now: number): void {
    if (now - this.slotStart < this.slotMs) return;
    const steps = Math.min(SLOTS, Math.floor((now - this.slotStart) / this.slotMs));
    for (let i = 0; i < steps; i++) {
      this.slot = (this.slot + 1) % SLOTS;
      this.calls[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
    this.slotStart = Number.isFinite(this.slotStart) ? this.slotStart + steps * this.slotMs : now;
    if (now - this.slotStart >= this.slotMs) this.slotStart = now;
  }
}
