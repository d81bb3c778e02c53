import { type CallContext, semconv, type Target } from '@flowgate/core';
import { retryDelay } from './backoff.js';
import type { DeploymentEntry, Health } from './deployment.js';
import type { ErrorAction } from './error-policy.js';
import type { HedgeState } from './hedge.js';
import type { Runtime } from './runtime.js';
import {
  ATTR_DEPLOYMENT,
  ATTR_FALLBACK_FROM,
  ATTR_RETRY_DELAY_MS,
  addEvent,
  EVENT_BUDGET_EXHAUSTED,
  EVENT_FALLBACK,
  EVENT_RETRY,
} from './telemetry.js';
import type { AttemptKind, RouterMeta } from './types.js';
import { errorType, sleep } from './util.js';

type Step = IteratorResult<Target, undefined>;
const DONE: Step = { done: true, value: undefined };
const DONE_NOW: Promise<Step> = Promise.resolve(DONE);

/**
 * The targets of one call, handed to the core one at a time: the core pulls the next only after an attempt
 * failed, and `shouldFallback` has told the plan why (`onFailure`). The order is the strategy's; after a
 * failure the plan goes to the next deployment not tried yet (a fallback, no wait); once every deployment was
 * tried, it retries the ones that failed with a retryable error, after an exponential backoff with full jitter,
 * within the retry budget and the call's deadline.
 */
export class CallPlan implements AsyncIterableIterator<Target, undefined, undefined> {
  readonly meta: RouterMeta;
  /** What the attempt the plan just handed out is (read by the attempt middleware as the attempt starts). */
  pendingKind: AttemptKind = 'first';
  pendingDelay = 0;
  /** Set when the call is hedged. */
  hedge: HedgeState | undefined;
  private started = false;
  private finished = false;
  private cursor = 1;
  private readonly tried: DeploymentEntry[] = [];
  /** By index in `tried`: what the failure of that deployment calls for, and the error (made on the first failure). */
  private actions: (ErrorAction | undefined)[] | undefined;
  private errors: unknown[] | undefined;
  private lastEntry: DeploymentEntry | undefined;
  private lastError: unknown;
  /** After a context-length error: deployments must have a larger window than this. */
  private minContext: number | undefined;
  private readonly maxRetries: number;

  constructor(
    private readonly rt: Runtime,
    private readonly call: CallContext,
    private readonly entries: readonly DeploymentEntry[],
    readonly ordered: readonly DeploymentEntry[],
    private readonly tags: readonly string[] | undefined,
    group: string,
    strategy: string,
  ) {
    this.meta = { group, strategy, attempts: [], fallbacks: 0, retries: 0, hedged: false };
    this.maxRetries = call.options.router?.maxRetries ?? rt.retry.maxRetries;
  }

  get streaming(): boolean {
    return this.call.streaming;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Step> {
    if (this.finished || this.cancelled) return DONE_NOW;
    if (!this.started) {
      this.started = true;
      return this.hand(this.ordered[0]!, 'first', 0);
    }
    const fallback = this.nextFallback();
    if (fallback) {
      const from = this.lastEntry;
      if (from) {
        const type = errorType(this.lastError);
        this.rt.instruments.fallback(from.health, fallback.health, type);
        addEvent(this.call.span, EVENT_FALLBACK, {
          [ATTR_FALLBACK_FROM]: from.key,
          [ATTR_DEPLOYMENT]: fallback.key,
          [semconv.ATTR_ERROR_TYPE]: type,
        });
      }
      this.meta.fallbacks++;
      return this.hand(fallback, 'fallback', 0);
    }
    return this.nextRetry();
  }

  return(): Promise<Step> {
    this.finished = true;
    return DONE_NOW;
  }

  /** Records a failed attempt (from the router's `shouldFallback`); false = give the error to the caller. */
  onFailure(health: Health, error: unknown): boolean {
    const action = this.rt.policy(error);
    const i = this.indexOf(health);
    if (i >= 0) {
      this.failedAt(i, action, error);
      this.lastEntry = this.tried[i];
    }
    this.lastError = error;
    if (action === 'larger-context') {
      const window = this.lastEntry?.contextWindow ?? 0;
      this.minContext = Math.max(this.minContext ?? 0, window);
    }
    return action !== 'stop' && !this.cancelled;
  }

  /** The next deployment for a hedge: the next one not tried yet, taken out of the fallback order. */
  takeHedge(): DeploymentEntry | undefined {
    const entry = this.nextFallback();
    if (!entry) return undefined;
    this.markTried(entry);
    this.meta.hedged = true;
    return entry;
  }

  /** A hedge attempt failed: its deployment may be retried like any other. */
  onHedgeFailure(health: Health, error: unknown): void {
    const i = this.indexOf(health);
    if (i < 0) return;
    this.failedAt(i, this.rt.policy(error), error);
  }

  /** The hedge answered first: the planned attempts stop. */
  private get cancelled(): boolean {
    return this.hedge?.winner === 'hedge';
  }

  private hand(entry: DeploymentEntry, kind: AttemptKind, delay: number): Promise<Step> {
    this.pendingKind = kind;
    this.pendingDelay = delay;
    this.markTried(entry);
    return Promise.resolve({ done: false, value: entry.health.target });
  }

  private markTried(entry: DeploymentEntry): void {
    if (this.tried.includes(entry)) return;
    this.tried.push(entry);
  }

  private failedAt(i: number, action: ErrorAction, error: unknown): void {
    this.actions ??= [];
    this.errors ??= [];
    this.actions[i] = action;
    this.errors[i] = error;
  }

  private indexOf(health: Health): number {
    for (let i = 0; i < this.tried.length; i++) if (this.tried[i]!.health === health) return i;
    return -1;
  }

  private fits(entry: DeploymentEntry): boolean {
    const min = this.minContext;
    return min === undefined || (entry.contextWindow !== undefined && entry.contextWindow > min);
  }

  private nextFallback(): DeploymentEntry | undefined {
    if (this.minContext !== undefined) {
      // The prompt is too long: the smallest window that is larger, among every deployment of the group.
      let best: DeploymentEntry | undefined;
      for (const e of this.entries) {
        if (this.tried.includes(e) || !e.health.available || !e.hasTags(this.tags) || !this.fits(e)) continue;
        if (!best || e.contextWindow! < best.contextWindow!) best = e;
      }
      return best;
    }
    const ordered = this.ordered;
    while (this.cursor < ordered.length) {
      const e = ordered[this.cursor++]!;
      if (!this.tried.includes(e) && e.health.available) return e;
    }
    return undefined;
  }

  private nextRetry(): Promise<Step> {
    const retry = this.meta.retries;
    if (retry >= this.maxRetries) return DONE_NOW;
    const eligible: number[] = [];
    for (let i = 0; i < this.tried.length; i++) {
      const e = this.tried[i]!;
      if (this.actions?.[i] === 'retry' && e.health.available && this.fits(e)) eligible.push(i);
    }
    if (eligible.length === 0) return DONE_NOW;
    const i = eligible[retry % eligible.length]!;
    const entry = this.tried[i]!;
    const error = this.errors?.[i];
    const rt = this.rt;
    const delay = retryDelay(retry + 1, error, rt.retry, rt.random);
    const deadline = this.call.deadline;
    // Waiting past the deadline only to fail then is worse than failing now with the real error.
    if (deadline !== undefined && Date.now() + delay >= deadline) return DONE_NOW;
    if (rt.budget && !rt.budget.tryWithdraw(rt.now())) {
      rt.instruments.exhausted(entry.health);
      addEvent(this.call.span, EVENT_BUDGET_EXHAUSTED, { [ATTR_DEPLOYMENT]: entry.key });
      return DONE_NOW;
    }
    const type = errorType(error);
    rt.instruments.retry(entry.health, type);
    addEvent(this.call.span, EVENT_RETRY, {
      [ATTR_DEPLOYMENT]: entry.key,
      [ATTR_RETRY_DELAY_MS]: delay,
      [semconv.ATTR_ERROR_TYPE]: type,
    });
    this.meta.retries++;
    if (delay <= 0) return this.hand(entry, 'retry', 0);
    const cancel = this.hedge?.primarySignal;
    return sleep(delay, this.call.cancellable ? this.call.signal : undefined, cancel).then(() =>
      this.finished || this.cancelled ? DONE : this.handNow(entry, delay),
    );
  }

  private handNow(entry: DeploymentEntry, delay: number): Step {
    this.pendingKind = 'retry';
    this.pendingDelay = delay;
    this.markTried(entry);
    return { done: false, value: entry.health.target };
  }
}
