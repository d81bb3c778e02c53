import { EventEmitter } from 'node:events';
import { ConfigError } from '@flowgate/core';
import CircuitBreaker from 'opossum';

/** `closed`: calls flow; `open`: the deployment is out of every plan; `half-open`: one probe call may go. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Value of the `flowgate.router.breaker.state` gauge for each state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface HealthCheckOptions {
  /** How often to probe a deployment while its breaker is open, ms. */
  intervalMs: number;
  /** A probe that takes longer fails, ms. Default: `intervalMs`. */
  timeoutMs?: number;
}

export interface BreakerOptions {
  /** Error percentage over the rolling window above which the breaker opens. Default 50. */
  errorThresholdPercentage?: number;
  /** Attempts the window must hold before the breaker may open. Default 5. */
  volumeThreshold?: number;
  /** Time open before one probe call is let through (half-open), ms. Default 30 000. */
  resetTimeoutMs?: number;
  /** Rolling statistics window, ms. Default 10 000. */
  rollingWindowMs?: number;
  /**
   * Active health checks while a breaker is open: a 1-token request every `intervalMs`; the first that
   * succeeds closes the breaker before `resetTimeoutMs`. Off by default.
   */
  healthCheck?: HealthCheckOptions;
}

export interface ResolvedBreaker {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  rollingWindowMs: number;
  healthCheck: { intervalMs: number; timeoutMs: number } | undefined;
}

const BUCKETS = 10;

export function resolveBreaker(options: BreakerOptions | undefined): ResolvedBreaker {
  const o = options ?? {};
  const r: ResolvedBreaker = {
    errorThresholdPercentage: o.errorThresholdPercentage ?? 50,
    volumeThreshold: o.volumeThreshold ?? 5,
    resetTimeoutMs: o.resetTimeoutMs ?? 30_000,
    rollingWindowMs: o.rollingWindowMs ?? 10_000,
    healthCheck: undefined,
  };
  if (!(r.errorThresholdPercentage >= 0 && r.errorThresholdPercentage <= 100)) {
    throw new ConfigError('breaker.errorThresholdPercentage must be between 0 and 100');
  }
  if (!Number.isInteger(r.volumeThreshold) || r.volumeThreshold < 0) {
    throw new ConfigError('breaker.volumeThreshold must be an integer >= 0');
  }
  if (!(r.resetTimeoutMs > 0) || !Number.isFinite(r.resetTimeoutMs)) {
    throw new ConfigError('breaker.resetTimeoutMs must be a number > 0');
  }
  if (!(r.rollingWindowMs >= BUCKETS) || !Number.isFinite(r.rollingWindowMs)) {
    throw new ConfigError(`breaker.rollingWindowMs must be a number >= ${BUCKETS}`);
  }
  if (o.healthCheck) {
    const { intervalMs, timeoutMs = intervalMs } = o.healthCheck;
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) {
      throw new ConfigError('breaker.healthCheck.intervalMs must be a number > 0');
    }
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new ConfigError('breaker.healthCheck.timeoutMs must be a number > 0');
    }
    r.healthCheck = { intervalMs, timeoutMs };
  }
  return r;
}

/**
 * Drives the rolling windows of every breaker of a router from one timer (opossum would start one
 * interval per breaker otherwise).
 */
export class BucketClock {
  readonly emitter = new EventEmitter();
  private readonly timer: NodeJS.Timeout;

  constructor(rollingWindowMs: number) {
    this.emitter.setMaxListeners(0);
    this.timer = setInterval(() => this.emitter.emit('rotate'), rollingWindowMs / BUCKETS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** One attempt admitted by a breaker; settle it exactly once with the attempt's outcome. */
export class Ticket {
  /** What opossum's action returns: opossum handles its rejection (it is only ever settled once started). */
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  started = false;
  /**
   * opossum's promise for this attempt; settles after opossum has processed the outcome. It rejects when
   * the attempt failed: `settle` then attaches the handler, before the rejection can go unhandled.
   */
  fired!: Promise<void>;
  /** The attempt was the half-open probe. */
  probe = false;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(): Promise<void> {
    this.started = true;
    return this.promise;
  }
}

const admit = (ticket: Ticket): Promise<void> => ticket.start();
const noop = (): void => {};

/**
 * A circuit breaker for one deployment, over opossum. Attempts are admitted with `enter()` and report their
 * outcome with `settle()`; failures that say nothing about the deployment (caller aborts, lost hedges,
 * client errors) count as neither success nor failure. Opossum's own timeout is off: the router times
 * attempts itself, because it must also abort them.
 */
export class Breaker {
  private readonly cb: CircuitBreaker<[Ticket], void>;
  private current: BreakerState = 'closed';
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    name: string,
    private readonly o: ResolvedBreaker,
    clock: BucketClock,
    private readonly onTransition: (from: BreakerState, to: BreakerState) => void,
    private readonly healthProbe: ((timeoutMs: number) => Promise<void>) | undefined,
  ) {
    this.cb = new CircuitBreaker(admit, {
      name,
      timeout: false, // the router times attempts itself, and aborts them
      resetTimeout: o.resetTimeoutMs,
      errorThresholdPercentage: o.errorThresholdPercentage,
      volumeThreshold: o.volumeThreshold,
      rollingCountTimeout: o.rollingWindowMs,
      rollingCountBuckets: BUCKETS,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: clock.emitter,
    });
    this.cb.on('open', () => this.moveTo('open'));
    this.cb.on('halfOpen', () => this.moveTo('half-open'));
    this.cb.on('close', () => this.moveTo('closed'));
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Closed, or half-open with its probe not yet taken. */
  get available(): boolean {
    const cb = this.cb;
    return cb.closed || (cb.halfOpen && cb.pendingClose);
  }

  /** Admits an attempt, or returns undefined when the breaker is open (or its half-open probe is taken). */
  enter(): Ticket | undefined {
    const ticket = new Ticket();
    ticket.probe = this.cb.halfOpen;
    const fired = this.cb.fire(ticket);
    if (!ticket.started) {
      fired.catch(noop);
      return undefined;
    }
    ticket.fired = fired;
    return ticket;
  }

  /**
   * Reports a success while the breaker is closed, the common case: nothing can change then, so nobody
   * waits for opossum to process it (and no promise is made for that).
   */
  succeed(ticket: Ticket): void {
    ticket.resolve();
  }

  /**
   * Reports an attempt's outcome. `neutral`: the failure says nothing about the deployment (the caller left,
   * the attempt lost a hedge, the request itself was wrong). Resolves once the breaker has acted on it, so
   * that a transition it caused can be recorded on the attempt's span.
   */
  settle(ticket: Ticket, outcome: 'ok' | 'failure' | 'neutral', error?: unknown): Promise<void> {
    if (outcome === 'failure') ticket.reject(error ?? new Error('attempt failed'));
    else {
      // A neutral end of the half-open probe must not close the breaker: re-open it, so that another probe
      // is scheduled after the reset timeout.
      if (outcome === 'neutral' && ticket.probe && this.cb.halfOpen) this.cb.open();
      ticket.resolve();
    }
    return ticket.fired.then(noop, noop);
  }

  shutdown(): void {
    this.stopProbing();
    this.cb.shutdown();
  }

  private moveTo(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    if (to === 'open') this.startProbing();
    else this.stopProbing();
    this.onTransition(from, to);
  }

  private startProbing(): void {
    const hc = this.o.healthCheck;
    const probe = this.healthProbe;
    if (!hc || !probe || this.probeTimer) return;
    this.probeTimer = setInterval(() => {
      if (this.probing) return;
      this.probing = true;
      probe(hc.timeoutMs).then(
        () => {
          this.probing = false;
          if (this.cb.opened) this.cb.close();
        },
        () => {
          this.probing = false;
        },
      );
    }, hc.intervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
