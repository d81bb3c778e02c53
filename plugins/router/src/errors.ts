import { FlowgateError, TimeoutError, UpstreamError } from '@flowgate/core';

/** Stable codes of the router's own errors (the core's codes cover everything upstream). */
export const RouterErrorCode = {
  CIRCUIT_OPEN: 'FLOWGATE_ERR_CIRCUIT_OPEN',
  HEDGE_LOST: 'FLOWGATE_ERR_HEDGE_LOST',
  NO_DEPLOYMENT: 'FLOWGATE_ERR_NO_DEPLOYMENT',
} as const;

/**
 * A deployment's circuit breaker is open: its recent calls failed, so the router does not send it more.
 * Retryable (status 503): another deployment may be fine. Thrown to the caller when every deployment of a
 * model is open.
 */
export class CircuitOpenError extends UpstreamError {
  override name = 'CircuitOpenError';
  /** Deployment key (`provider/model`), or the model when every deployment of it is open. */
  readonly deployment: string;
  constructor(deployment: string, message = `circuit open for ${deployment}`, provider?: string) {
    super(RouterErrorCode.CIRCUIT_OPEN, message, { status: 503, retryable: true, provider });
    this.deployment = deployment;
  }
}

/** The attempt lost a hedge race (the other attempt answered first) and was cancelled. Never retried. */
export class HedgeLostError extends FlowgateError {
  override name = 'HedgeLostError';
  constructor(message = 'the other attempt of the hedge answered first') {
    super(RouterErrorCode.HEDGE_LOST, message);
  }
}

/** No deployment may take the call: none has the tags it asked for, or none meets its constraints. */
export class NoDeploymentError extends FlowgateError {
  override name = 'NoDeploymentError';
  readonly model: string;
  constructor(model: string, reason: string) {
    super(RouterErrorCode.NO_DEPLOYMENT, `no deployment of "${model}" can take this call: ${reason}`, { status: 404 });
    this.model = model;
  }
}

/** A stream sent no chunk for `stallMs` (code `FLOWGATE_ERR_TIMEOUT`, like every timeout). */
export class StreamStallError extends TimeoutError {
  override name = 'StreamStallError';
  readonly stallMs: number;
  constructor(deployment: string, stallMs: number, provider?: string) {
    super(`${deployment}: the stream sent nothing for ${stallMs} ms`, { provider });
    this.stallMs = stallMs;
  }
}
