import { ErrorCode, FlowgateError } from '@flowgate/core';

export const POOL_SATURATED = ErrorCode.POOL_SATURATED;

/**
 * Every connection to the origin is busy and `maxQueued` requests already wait for one: the request
 * fails at once instead of queueing without bound. Retryable, so that a router can try another target.
 */
export class PoolSaturatedError extends FlowgateError {
  override name = 'PoolSaturatedError';
  readonly origin: string;
  /** Requests waiting for a connection when this one was refused. */
  readonly queued: number;
  readonly maxQueued: number;

  constructor(origin: string, queued: number, maxQueued: number, provider?: string) {
    super(
      POOL_SATURATED,
      `pool: ${origin} is saturated: every connection is busy and ${queued} requests wait (maxQueued ${maxQueued})`,
      { retryable: true, provider },
    );
    this.origin = origin;
    this.queued = queued;
    this.maxQueued = maxQueued;
  }
}
