import { AbortError, ContentFilterError, ContextLengthError, FlowgateError, UpstreamAuthError } from '@flowgate/core';
import { CircuitOpenError, HedgeLostError } from './errors.js';

/**
 * What the router does after a failed attempt:
 * - `retry`: try the next deployment at once; once every deployment was tried, this one may be retried
 *   after a backoff (429, 5xx, timeouts, connection errors, malformed or cut-off answers);
 * - `fallback`: try the next deployment, never this one again (open circuit, auth failure, model not found);
 * - `larger-context`: only a deployment with a larger `contextWindow` (the prompt does not fit);
 * - `stop`: give the error to the caller (invalid request, content policy, caller abort).
 */
export type ErrorAction = 'retry' | 'fallback' | 'larger-context' | 'stop';

/** The default policy per error class. Override it with the router's `errorPolicy` option. */
export function defaultErrorAction(error: unknown): ErrorAction {
  if (!(error instanceof FlowgateError)) return 'stop';
  if (error instanceof ContextLengthError) return 'larger-context';
  if (error instanceof ContentFilterError) return 'stop';
  if (error instanceof HedgeLostError || error instanceof AbortError) return 'stop';
  if (error instanceof CircuitOpenError || error instanceof UpstreamAuthError) return 'fallback';
  if (error.retryable) return 'retry';
  // A model one provider does not know may exist at another.
  if (error.status === 404) return 'fallback';
  return 'stop';
}

/**
 * Whether a failure says something about the deployment's health (and so counts for its circuit breaker
 * and latency estimate). The caller's own mistakes, cancellations and open circuits do not.
 */
export function isHealthFailure(error: unknown): boolean {
  if (!(error instanceof FlowgateError)) return true;
  if (error instanceof HedgeLostError || error instanceof AbortError || error instanceof CircuitOpenError) return false;
  if (error.retryable || error instanceof UpstreamAuthError) return true;
  return false;
}
