export type { RetryOptions } from './backoff.js';
export { BREAKER_STATE_VALUE, type BreakerOptions, type BreakerState, type HealthCheckOptions } from './breaker.js';
export type { Deployment, DeploymentConfig, DeploymentStats, LatencyOptions } from './deployment.js';
export { defaultErrorAction, type ErrorAction, isHealthFailure } from './error-policy.js';
export { CircuitOpenError, HedgeLostError, NoDeploymentError, RouterErrorCode, StreamStallError } from './errors.js';
export type { HedgeOptions } from './hedge.js';
export { estimateCost, type Price, type PriceLookup, priceTable } from './prices.js';
export type { RetryBudgetOptions } from './retry-budget.js';
export { type RouterPlugin, router } from './router.js';
export { createStrategy, type DeploymentSnapshot, type ModelGroupConfig, type RouterOptions } from './runtime.js';
export { type CostAwareOptions, costAware, estimatePromptTokens } from './strategies/cost.js';
export { leastBusy } from './strategies/least-busy.js';
export { type LeastLatencyOptions, leastLatency } from './strategies/least-latency.js';
export { peakEwmaCost, powerOfTwoChoices } from './strategies/p2c.js';
export { priority } from './strategies/priority.js';
export { roundRobin } from './strategies/round-robin.js';
export { weightedRoundRobin } from './strategies/weighted-round-robin.js';
export type { SelectContext, Strategy, StrategyName } from './strategy.js';
export {
  ATTR_ATTEMPT_KIND,
  ATTR_BREAKER_FROM,
  ATTR_BREAKER_TO,
  ATTR_DEPLOYMENT,
  ATTR_FALLBACK_FROM,
  ATTR_FIRST_BYTE_MS,
  ATTR_GROUP,
  ATTR_HEDGE_OUTCOME,
  ATTR_RETRY_DELAY_MS,
  ATTR_STRATEGY,
  EVENT_BREAKER,
  EVENT_BUDGET_EXHAUSTED,
  EVENT_FALLBACK,
  EVENT_HEDGE,
  EVENT_RETRY,
  METRIC_ATTEMPTS,
  METRIC_BREAKER_STATE,
  METRIC_BREAKER_TRANSITIONS,
  METRIC_BUDGET_EXHAUSTED,
  METRIC_FALLBACKS,
  METRIC_HEDGES,
  METRIC_RETRIES,
} from './telemetry.js';
export type { AttemptKind, RouterAttemptInfo, RouterCallOptions, RouterMeta } from './types.js';
