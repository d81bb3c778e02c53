import { semconv } from '@flowgate/core';
import { type Attributes, type Counter, createNoopMeter, type Meter, type Span } from '@opentelemetry/api';
import { BREAKER_STATE_VALUE, type BreakerState } from './breaker.js';
import type { Health } from './deployment.js';

// Attribute and event names the router adds (see the README).
export const ATTR_DEPLOYMENT = 'flowgate.router.deployment';
export const ATTR_ATTEMPT_KIND = 'flowgate.router.attempt.kind';
export const ATTR_RETRY_DELAY_MS = 'flowgate.router.retry.delay_ms';
export const ATTR_STRATEGY = 'flowgate.router.strategy';
export const ATTR_GROUP = 'flowgate.router.group';
export const ATTR_HEDGE_OUTCOME = 'flowgate.router.hedge.outcome';
export const ATTR_BREAKER_FROM = 'flowgate.router.breaker.from';
export const ATTR_BREAKER_TO = 'flowgate.router.breaker.to';
export const ATTR_FALLBACK_FROM = 'flowgate.router.fallback.from';
export const ATTR_FIRST_BYTE_MS = 'flowgate.router.first_byte_ms';
export const EVENT_RETRY = 'flowgate.router.retry';
export const EVENT_FALLBACK = 'flowgate.router.fallback';
export const EVENT_HEDGE = 'flowgate.router.hedge';
export const EVENT_BREAKER = 'flowgate.router.breaker';
export const EVENT_BUDGET_EXHAUSTED = 'flowgate.router.retry_budget.exhausted';

export const METRIC_ATTEMPTS = 'flowgate.router.attempts';
export const METRIC_FALLBACKS = 'flowgate.router.fallbacks';
export const METRIC_RETRIES = 'flowgate.router.retries';
export const METRIC_BUDGET_EXHAUSTED = 'flowgate.router.retry_budget.exhausted';
export const METRIC_HEDGES = 'flowgate.router.hedges';
export const METRIC_BREAKER_STATE = 'flowgate.router.breaker.state';
export const METRIC_BREAKER_TRANSITIONS = 'flowgate.router.breaker.transitions';

const NOOP_COUNTER = createNoopMeter().createCounter('noop');

export type AttemptOutcome = 'ok' | 'error' | 'cancelled';

/** The router's instruments, created once per gateway. */
export class RouterInstruments {
  readonly attempts: Counter;
  readonly fallbacks: Counter;
  readonly retries: Counter;
  readonly budgetExhausted: Counter;
  readonly hedges: Counter;
  readonly transitions: Counter;
  /** False with no metrics SDK: then no attributes are built at all. */
  readonly on: boolean;

  constructor(meter: Meter, healths: () => Iterable<Health>) {
    this.attempts = meter.createCounter(METRIC_ATTEMPTS, {
      description: 'Attempts the router made, by deployment and outcome (ok, error, cancelled)',
      unit: '{attempt}',
    });
    this.fallbacks = meter.createCounter(METRIC_FALLBACKS, {
      description: 'Attempts sent to another deployment after a failure',
      unit: '{attempt}',
    });
    this.retries = meter.createCounter(METRIC_RETRIES, {
      description: 'Attempts sent again to a deployment already tried, after a backoff',
      unit: '{attempt}',
    });
    this.budgetExhausted = meter.createCounter(METRIC_BUDGET_EXHAUSTED, {
      description: 'Retries not made because the retry budget was used up',
      unit: '{retry}',
    });
    this.hedges = meter.createCounter(METRIC_HEDGES, {
      description: 'Hedge attempts, by outcome (won, lost, failed)',
      unit: '{attempt}',
    });
    this.transitions = meter.createCounter(METRIC_BREAKER_TRANSITIONS, {
      description: 'Circuit breaker state changes, by deployment, from and to',
      unit: '{transition}',
    });
    const state = meter.createObservableGauge(METRIC_BREAKER_STATE, {
      description: 'Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open',
      unit: '{state}',
    });
    state.addCallback((result) => {
      for (const h of healths()) {
        if (h.circuit) result.observe(BREAKER_STATE_VALUE[h.circuit.state], deploymentAttrs(h));
      }
    });
    this.on = this.attempts !== NOOP_COUNTER;
  }

  attempt(h: Health, outcome: AttemptOutcome, errorType: string | undefined): void {
    if (this.on) this.attempts.add(1, outcomeAttrs(h, outcome, errorType));
  }

  fallback(from: Health, to: Health, errorType: string): void {
    if (!this.on) return;
    this.fallbacks.add(1, {
      ...deploymentAttrs(to),
      [ATTR_FALLBACK_FROM]: from.key,
      [semconv.ATTR_ERROR_TYPE]: errorType,
    });
  }

  retry(h: Health, errorType: string): void {
    if (this.on) this.retries.add(1, { ...deploymentAttrs(h), [semconv.ATTR_ERROR_TYPE]: errorType });
  }

  exhausted(h: Health): void {
    if (this.on) this.budgetExhausted.add(1, deploymentAttrs(h));
  }

  hedge(h: Health, outcome: 'won' | 'lost' | 'failed'): void {
    if (this.on) this.hedges.add(1, { ...deploymentAttrs(h), [ATTR_HEDGE_OUTCOME]: outcome });
  }

  transition(h: Health, from: BreakerState, to: BreakerState): void {
    if (this.on) this.transitions.add(1, { ...deploymentAttrs(h), [ATTR_BREAKER_FROM]: from, [ATTR_BREAKER_TO]: to });
  }
}

/** Provider id, provider system and deployment key: the identity attributes of every router metric. */
export function deploymentAttrs(h: Health): Attributes {
  let a = h.metricAttrs.get('');
  if (!a) {
    a = Object.freeze({
      [semconv.ATTR_FLOWGATE_PROVIDER_ID]: h.provider.id,
      [semconv.ATTR_GEN_AI_PROVIDER_NAME]: h.provider.system,
      [ATTR_DEPLOYMENT]: h.key,
    });
    h.metricAttrs.set('', a);
  }
  return a;
}

function outcomeAttrs(h: Health, outcome: AttemptOutcome, errorType: string | undefined): Attributes {
  const k = errorType === undefined ? outcome : `${outcome}|${errorType}`;
  let a = h.metricAttrs.get(k);
  if (!a) {
    a = { ...deploymentAttrs(h), [semconv.ATTR_FLOWGATE_OUTCOME]: outcome };
    if (errorType !== undefined) a[semconv.ATTR_ERROR_TYPE] = errorType;
    // Frozen: one object per series, which a metrics SDK can recognise by identity.
    Object.freeze(a);
    // Error types are a closed set of codes, so the cache stays small.
    if (h.metricAttrs.size < 64) h.metricAttrs.set(k, a);
  }
  return a;
}

export function addEvent(span: Span, name: string, attributes: Attributes): void {
  if (span.isRecording()) span.addEvent(name, attributes);
}
