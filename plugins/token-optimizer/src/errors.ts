import { ErrorCode, FlowgateError } from '@flowgate/core';

/** Stable codes of this plugin's errors (the context one shares the core's code on purpose). */
export const TokenOptimizerErrorCode = {
  BUDGET_EXCEEDED: ErrorCode.BUDGET_EXCEEDED,
  UNPRICED_MODEL: 'FLOWGATE_ERR_UNPRICED_MODEL',
  BUDGET_UNAVAILABLE: 'FLOWGATE_ERR_BUDGET_UNAVAILABLE',
  CONTEXT_LENGTH: ErrorCode.CONTEXT_LENGTH,
} as const;

/** Which budget refused the call. */
export type BudgetScope = 'request' | 'day' | 'month';

export interface BudgetExceededDetails {
  scope: BudgetScope;
  model: string;
  /** Estimated cost of this call (prompt tokens at the input price + max output tokens at the output price). */
  estimateUsd: number;
  limitUsd: number;
  /** Spent (and reserved by calls in flight) in the period, for `day` and `month`. */
  spentUsd?: number;
  tenant?: string;
}

/**
 * A call would go over a budget: the per-request limit, or the tenant's daily or monthly limit.
 * Not retryable: the same request would be refused again (HTTP 402 at the server).
 */
export class BudgetExceededError extends FlowgateError {
  override name = 'BudgetExceededError';
  readonly scope: BudgetScope;
  readonly model: string;
  readonly estimateUsd: number;
  readonly limitUsd: number;
  readonly spentUsd: number | undefined;
  readonly tenant: string | undefined;

  constructor(d: BudgetExceededDetails) {
    const where =
      d.scope === 'request'
        ? `the per-request budget of $${fmtUsd(d.limitUsd)}`
        : `the ${d.scope === 'day' ? 'daily' : 'monthly'} budget of tenant "${d.tenant}" ($${fmtUsd(d.spentUsd ?? 0)} of $${fmtUsd(d.limitUsd)} used)`;
    super(
      TokenOptimizerErrorCode.BUDGET_EXCEEDED,
      `budget exceeded: a call to "${d.model}" estimated at $${fmtUsd(d.estimateUsd)} would go over ${where}`,
      { status: 402, retryable: false },
    );
    this.scope = d.scope;
    this.model = d.model;
    this.estimateUsd = d.estimateUsd;
    this.limitUsd = d.limitUsd;
    this.spentUsd = d.spentUsd;
    this.tenant = d.tenant;
  }
}

/** A budget applies to the call but the model has no price, so its cost cannot be bounded. */
export class UnpricedModelError extends FlowgateError {
  override name = 'UnpricedModelError';
  readonly model: string;
  constructor(model: string) {
    super(
      TokenOptimizerErrorCode.UNPRICED_MODEL,
      `model "${model}" has no price, so a budget cannot be enforced for it: add it with tokenOptimizer({ prices }) or plugin.prices.set()`,
      { status: 400, retryable: false },
    );
    this.model = model;
  }
}

/**
 * The prompt does not fit the model's context window minus the output tokens it asks for, and the
 * context policy is `fail` (or trimming cannot make it fit without cutting the system prompt or the
 * latest turn). Shares the core's `FLOWGATE_ERR_CONTEXT_LENGTH_EXCEEDED` code, raised before any call.
 */
export class ContextWindowExceededError extends FlowgateError {
  override name = 'ContextWindowExceededError';
  readonly model: string;
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  readonly contextWindow: number;
  constructor(model: string, promptTokens: number, maxOutputTokens: number, contextWindow: number, why = '') {
    super(
      TokenOptimizerErrorCode.CONTEXT_LENGTH,
      `the prompt (${promptTokens} tokens) plus ${maxOutputTokens} output tokens does not fit the ${contextWindow}-token context window of "${model}"${why}`,
      { status: 400, retryable: false },
    );
    this.model = model;
    this.promptTokens = promptTokens;
    this.maxOutputTokens = maxOutputTokens;
    this.contextWindow = contextWindow;
  }
}

export function fmtUsd(usd: number): string {
  if (usd === 0) return '0';
  if (Math.abs(usd) >= 1) return usd.toFixed(2);
  return usd.toPrecision(3);
}

/** The budget store failed and `budget.onStoreError` is `reject`. Retryable: the store may recover. */
export class BudgetUnavailableError extends FlowgateError {
  override name = 'BudgetUnavailableError';
  constructor(cause: unknown) {
    super(TokenOptimizerErrorCode.BUDGET_UNAVAILABLE, 'the budget store is unavailable, so the call was refused', {
      status: 503,
      retryable: true,
      cause,
    });
  }
}
