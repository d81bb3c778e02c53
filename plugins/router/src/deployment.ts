import type { CallContext, Provider, Summary, Target, WindowedHistogram } from '@flowgate/core';
import type { Attributes } from '@opentelemetry/api';
import type { Breaker, BreakerState } from './breaker.js';
import { DecayingEwma, PeakEwma } from './ewma.js';
import type { Price } from './prices.js';

/** One deployment as configured: a model at a provider, and how to weigh it. */
export interface DeploymentConfig {
  /** Id of a provider of the gateway (`openai`, `anthropic`, or the `id` you gave it). */
  provider: string;
  /** The model name sent to that provider. */
  model: string;
  /** Share of traffic for weighted strategies. Default 1. */
  weight?: number;
  /** Lower is preferred by the `priority` strategy. Default 0. */
  priority?: number;
  /** Labels a call can require with `router: { tags }` (region, tier, compliance...). */
  tags?: string[];
  /** Context window in tokens; used on context-length fallback and by the cost-aware strategy. */
  contextWindow?: number;
  /** Price of this deployment; beats the token optimizer's table and the router's `prices`. */
  price?: Price;
  /** Identity for breakers and stats. Default `provider/model`. */
  key?: string;
}

/** What strategies know about a deployment's recent behaviour. Estimates decay toward 0 while idle. */
export interface DeploymentStats {
  /** Attempts in progress (a stream counts until it ends). */
  readonly inFlight: number;
  /** Successful and failed attempts since the gateway started. */
  readonly successes: number;
  readonly failures: number;
  readonly breaker: BreakerState;
  /** EWMA of the total latency of whole (non-streamed) calls, ms; undefined before the first sample. */
  readonly latencyMs: number | undefined;
  /** EWMA of the time to first token of streamed calls, ms. */
  readonly ttftMs: number | undefined;
  /** Peak EWMA of the time to first byte (whole answer or first token), ms: jumps up at once, decays slowly. */
  readonly peakEwmaMs: number | undefined;
}

/** A deployment as strategies see it: its configuration and its live stats. */
export interface Deployment {
  readonly key: string;
  readonly provider: Provider;
  readonly model: string;
  readonly weight: number;
  readonly priority: number;
  readonly tags: readonly string[];
  readonly contextWindow: number | undefined;
  readonly price: Price | undefined;
  readonly stats: DeploymentStats;
}

export interface LatencyOptions {
  /** Weight of a new sample in the latency EWMAs. Default 0.3. */
  alpha?: number;
  /** Half-life of the latency EWMAs while a deployment is idle, ms. Default 10 000. */
  halfLifeMs?: number;
  /** Time constant of the peak EWMA (power-of-two-choices), ms. Default 10 000. */
  peakDecayMs?: number;
  /** A failed attempt is recorded as at least this slow, so that failing fast does not look fast. Default 1000. */
  failurePenaltyMs?: number;
}

export interface ResolvedLatency {
  alpha: number;
  halfLifeMs: number;
  peakDecayMs: number;
  failurePenaltyMs: number;
}

/**
 * Shared state of one deployment key: stats, breaker and the targets the plan hands to the core. Every
 * group that lists the same key shares it.
 */
export class Health implements DeploymentStats {
  inFlight = 0;
  successes = 0;
  failures = 0;
  readonly latency: DecayingEwma;
  readonly ttft: DecayingEwma;
  readonly peak: PeakEwma;
  /**
   * Time to first byte over the last minute, for whole calls [0] and streams [1], for hedging at the observed
   * p95 (kept only when hedging asks for it).
   */
  firstByte: [WindowedHistogram, WindowedHistogram] | undefined;
  private readonly firstByteSummary: (Summary | undefined)[] = [undefined, undefined];
  private readonly firstByteSummaryAt = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  /** The deployment's circuit breaker; undefined when breakers are off. */
  circuit: Breaker | undefined;
  /** Dispatcher of the last attempt, reused by health checks. */
  dispatcher: CallContext['dispatcher'] | undefined;
  /** The target planned attempts use. */
  readonly target: Target;
  /** A distinct target object for hedge attempts, so that the attempt middleware can tell them apart. */
  readonly hedgeTarget: Target;
  /** Metric attributes, built once per outcome. */
  readonly metricAttrs = new Map<string, Attributes>();

  constructor(
    readonly key: string,
    readonly provider: Provider,
    readonly model: string,
    latency: ResolvedLatency,
    private readonly clock: () => number,
  ) {
    this.latency = new DecayingEwma(latency.alpha, latency.halfLifeMs);
    this.ttft = new DecayingEwma(latency.alpha, latency.halfLifeMs);
    this.peak = new PeakEwma(latency.peakDecayMs);
    this.target = { provider, model, key };
    this.hedgeTarget = { provider, model, key };
  }

  get breaker(): BreakerState {
    return this.circuit?.state ?? 'closed';
  }

  /** May take an attempt now: no breaker, closed, or half-open with its probe free. */
  get available(): boolean {
    return this.circuit === undefined || this.circuit.available;
  }
  get latencyMs(): number | undefined {
    return this.latency.read(this.clock());
  }
  get ttftMs(): number | undefined {
    return this.ttft.read(this.clock());
  }
  get peakEwmaMs(): number | undefined {
    return this.peak.read(this.clock());
  }

  /** p95 of the time to first byte, recomputed at most once a second; undefined with too few samples. */
  firstByteP95(streaming: boolean, minSamples: number): number | undefined {
    const h = this.firstByte?.[streaming ? 1 : 0];
    if (!h) return undefined;
    const i = streaming ? 1 : 0;
    const now = Date.now();
    // Until there are enough samples, look every time (the decision waits for them anyway).
    if (now - this.firstByteSummaryAt[i]! > 1000 || (this.firstByteSummary[i]?.count ?? 0) < minSamples) {
      this.firstByteSummary[i] = h.snapshot(now);
      this.firstByteSummaryAt[i] = now;
    }
    const s = this.firstByteSummary[i];
    return s && s.count >= minSamples ? s.p95 : undefined;
  }
}

/** One membership of a deployment in a model group (weights may differ per group); what strategies get. */
export class DeploymentEntry implements Deployment {
  readonly provider: Provider;
  readonly model: string;
  readonly key: string;

  constructor(
    readonly health: Health,
    readonly weight: number,
    readonly priority: number,
    readonly tags: readonly string[],
    readonly contextWindow: number | undefined,
    readonly price: Price | undefined,
  ) {
    this.provider = health.provider;
    this.model = health.model;
    this.key = health.key;
  }

  get stats(): DeploymentStats {
    return this.health;
  }

  hasTags(required: readonly string[] | undefined): boolean {
    if (!required || required.length === 0) return true;
    for (const t of required) if (!this.tags.includes(t)) return false;
    return true;
  }
}
