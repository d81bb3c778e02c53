import { type CallMiddleware, ConfigError, createStateKey, type PluginHost, type Reply } from '@flowgate/core';
import type { AttemptScope } from './attempt-scope.js';
import { HedgeLostError } from './errors.js';
import type { CallPlan } from './plan.js';
import type { Runtime } from './runtime.js';
import { ATTR_DEPLOYMENT, ATTR_RETRY_DELAY_MS, addEvent, EVENT_HEDGE } from './telemetry.js';

export interface HedgeOptions {
  /**
   * How long the first deployment may go without a first byte (the whole answer, or the first token of a
   * stream) before the same request is also sent to the next one, ms; or `'p95'`: that deployment's observed
   * 95th percentile over the last minute.
   */
  delay: number | 'p95';
  /** With `'p95'`: the delay until a deployment has 20 samples, ms. Default 1000. */
  initialDelayMs?: number;
  /** With `'p95'`: never hedge sooner than this, ms. Default 10. */
  minDelayMs?: number;
  /** Hedges may be at most this fraction of recent calls (so that a slow provider does not double the load). Default 0.1. */
  maxRatio?: number;
}

export interface ResolvedHedge {
  delay: number | 'p95';
  initialDelayMs: number;
  minDelayMs: number;
  maxRatio: number;
}

export function resolveHedge(o: HedgeOptions | undefined): ResolvedHedge | undefined {
  if (o === undefined) return undefined;
  const r: ResolvedHedge = {
    delay: o.delay,
    initialDelayMs: o.initialDelayMs ?? 1000,
    minDelayMs: o.minDelayMs ?? 10,
    maxRatio: o.maxRatio ?? 0.1,
  };
  if (r.delay !== 'p95' && (!(typeof r.delay === 'number' && r.delay >= 0) || !Number.isFinite(r.delay))) {
    throw new ConfigError("hedge.delay must be a number of ms >= 0 or 'p95'");
  }
  for (const k of ['initialDelayMs', 'minDelayMs', 'maxRatio'] as const) {
    if (!(r[k] >= 0) || !Number.isFinite(r[k])) throw new ConfigError(`hedge.${k} must be a number >= 0`);
  }
  return r;
}

/** Samples a deployment needs before its observed p95 is trusted as the hedge delay. */
export const P95_MIN_SAMPLES = 20;
const TRIGGER = Symbol('hedge');

/**
 * One hedged call. The first attempt that reaches its first byte claims the call (`claim`), at once and
 * synchronously, so exactly one branch wins: the planned attempts ("primary") or the hedge attempt. The
 * loser's attempt is aborted with `HedgeLostError`, which cancels its upstream request or stream. Nothing is
 * allocated for the race until a hedge is actually sent (most calls answer before the delay).
 */
export class HedgeState {
  winner: 'primary' | 'hedge' | undefined;
  plan: CallPlan | undefined;
  /** Set by the call middleware: the delay passed without a first byte. */
  onTrigger: (() => void) | undefined;
  private primaryScope: AttemptScope | undefined;
  private hedgeScope: AttemptScope | undefined;
  /** Created only if a plan waits on it (a retry backoff): aborts when the hedge wins. */
  private primaryCancel: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly fire = (): void => {
    this.timer = undefined;
    this.onTrigger?.();
  };

  constructor(
    private readonly rt: Runtime,
    private readonly delayOverride: number | undefined,
  ) {}

  /** Aborts when the hedge wins: planned attempts stop waiting (for a retry backoff, say). */
  get primarySignal(): AbortSignal {
    this.primaryCancel ??= new AbortController();
    if (this.winner === 'hedge' && !this.primaryCancel.signal.aborted) this.primaryCancel.abort(new HedgeLostError());
    return this.primaryCancel.signal;
  }

  /** The plan exists: start the timer for the first deployment. */
  attach(plan: CallPlan): void {
    this.plan = plan;
    plan.hedge = this;
    if (plan.ordered.length < 2) return; // nobody to hedge with
    this.timer = setTimeout(this.fire, this.delayFor(plan));
  }

  /** An attempt of this call started: it can be cancelled if its branch loses. */
  track(scope: AttemptScope, isHedge: boolean): void {
    if (isHedge) this.hedgeScope = scope;
    else this.primaryScope = scope;
    if (this.winner !== undefined && this.winner !== (isHedge ? 'hedge' : 'primary')) scope.abort(new HedgeLostError());
  }

  /** True when the branch of this attempt wins (or already won); false when the other branch did. */
  claim(isHedge: boolean): boolean {
    const me = isHedge ? 'hedge' : 'primary';
    if (this.winner !== undefined) return this.winner === me;
    this.winner = me;
    this.dispose();
    if (isHedge) {
      this.primaryScope?.abort(new HedgeLostError());
      this.primaryCancel?.abort(new HedgeLostError());
    } else {
      this.hedgeScope?.abort(new HedgeLostError());
    }
    return true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private delayFor(plan: CallPlan): number {
    if (this.delayOverride !== undefined) return this.delayOverride;
    const o = this.rt.hedge!;
    if (o.delay !== 'p95') return o.delay;
    const p95 = plan.ordered[0]!.health.firstByteP95(plan.streaming, P95_MIN_SAMPLES);
    return Math.max(o.minDelayMs, p95 ?? o.initialDelayMs);
  }
}

export const HEDGE_KEY = createStateKey<HedgeState>('router.hedge');

/**
 * Call middleware for hedging. It runs the planned attempts (`next()`); if no attempt has reached its first
 * byte after the delay, it sends the same request to the plan's next deployment with `host.runAttempt` and
 * returns whichever answers first. The other is cancelled.
 */
export function hedgeMiddleware(rt: Runtime, host: PluginHost): CallMiddleware {
  return async function hedging(ctx, next) {
    const perCall = ctx.options.router?.hedge;
    if (perCall === false) return next();
    const state = new HedgeState(rt, typeof perCall === 'number' ? perCall : undefined);
    ctx.set(HEDGE_KEY, state);
    const primary = next();
    let first: Reply | typeof TRIGGER;
    try {
      first = await new Promise<Reply | typeof TRIGGER>((resolve, reject) => {
        state.onTrigger = () => resolve(TRIGGER);
        primary.then(resolve, reject);
      });
    } catch (err) {
      state.dispose();
      throw err;
    }
    if (first !== TRIGGER) {
      state.dispose();
      return first;
    }
    const plan = state.plan;
    if (!plan || state.winner !== undefined || (rt.hedgeBudget && !rt.hedgeBudget.tryWithdraw(rt.now()))) {
      return primary;
    }
    const entry = plan.takeHedge();
    if (!entry) return primary;
    addEvent(ctx.span, EVENT_HEDGE, { [ATTR_DEPLOYMENT]: entry.key, [ATTR_RETRY_DELAY_MS]: 0 });
    const secondary = host.runAttempt(ctx, entry.health.hedgeTarget);
    secondary.then(
      () => rt.instruments.hedge(entry.health, 'won'),
      (err: unknown) => {
        if (err instanceof HedgeLostError) rt.instruments.hedge(entry.health, 'lost');
        else {
          rt.instruments.hedge(entry.health, 'failed');
          plan.onHedgeFailure(entry.health, err);
        }
      },
    );
    return firstSuccess(primary, secondary);
  };
}

/** The first of two replies to arrive; if both fail, the planned branch's error (unless it only lost the race). */
function firstSuccess(primary: Promise<Reply>, secondary: Promise<Reply>): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    let failed = 0;
    let primaryError: unknown;
    let secondaryError: unknown;
    const fail = () => {
      if (++failed < 2) return;
      reject(primaryError instanceof HedgeLostError ? secondaryError : primaryError);
    };
    primary.then(resolve, (err: unknown) => {
      primaryError = err;
      fail();
    });
    secondary.then(resolve, (err: unknown) => {
      secondaryError = err;
      fail();
    });
  });
}
