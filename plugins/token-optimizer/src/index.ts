export type { BudgetPeriodState, BudgetState, TenantLimits } from './budget.js';
export { type BudgetCounter, type BudgetStore, memoryBudgetStore, type ReserveResult } from './budget-store.js';
export { COMPLEXITY_WEIGHTS, type Complexity, estimateComplexity } from './complexity.js';
export { type ContextFit, type ContextPolicy, type TrimResult, trimToFit } from './context-fit.js';
export { type CostInfo, costOf, estimateUsd } from './cost.js';
export {
  type BudgetExceededDetails,
  BudgetExceededError,
  type BudgetScope,
  BudgetUnavailableError,
  ContextWindowExceededError,
  TokenOptimizerErrorCode,
  UnpricedModelError,
} from './errors.js';
export type { ModelChoice, ModelTier, SelectionOptions } from './model-selection.js';
export {
  type BudgetMeta,
  type BudgetOptions,
  type CostEstimate,
  type TokenOptimizer,
  type TokenOptimizerCallOptions,
  type TokenOptimizerOptions,
  tokenOptimizer,
} from './plugin.js';
export { bundledPrices, type Encoding, type ModelInfo, type ModelPrice, type PriceFile, PriceTable } from './prices.js';
export {
  type RedisBudgetStore,
  type RedisBudgetStoreOptions,
  type RedisScriptClient,
  redisBudgetStore,
} from './redis-budget-store.js';
export {
  ANTHROPIC_TOOL_PROMPT,
  CHAT_FORMAT,
  type CountableRequest,
  DEFAULT_ESTIMATE_FACTOR,
  type EncoderFactory,
  type EncodingCounter,
  encoderRefs,
  gptTokenizerEncoder,
  IMAGE_TOKENS,
  type PromptTokens,
  TokenCounter,
  type TokenCounterOptions,
  type TokenCounterStats,
  type TokenizerSpec,
  tiktokenEncoder,
  tokenizerFor,
} from './tokenizer.js';
export { renderToolsNamespace } from './tools-format.js';
export { formatUsageReport, type UsageReport, type UsageRow } from './usage-report.js';
