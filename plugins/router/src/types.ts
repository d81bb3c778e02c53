/** Per-call options and response metadata the router adds to `@flowgate/core` (module augmentation). */

/** Per-call router options: `gateway.complete(req, { router: { ... } })`. */
export interface RouterCallOptions {
  /** Only deployments that carry every one of these tags. */
  tags?: string[];
  /** Retries for this call (overrides `retry.maxRetries`). */
  maxRetries?: number;
  /** `false` turns hedging off for this call; a number sets its delay in ms (hedging must be configured). */
  hedge?: boolean | number;
  /** Cost-aware strategy: leave out deployments whose estimated cost is above this, USD. */
  maxCostUsd?: number;
  /** Cost-aware strategy: leave out deployments whose latency estimate is above this, ms. */
  maxLatencyMs?: number;
}

/** How an attempt came about. */
export type AttemptKind = 'first' | 'fallback' | 'retry' | 'hedge';

/** One attempt as the router saw it (`response.flowgate.router.attempts`). */
export interface RouterAttemptInfo {
  /** Attempt number, as in `response.flowgate.attempts` and the `flowgate.attempt` span attribute. */
  attempt: number;
  /** Deployment key (`provider/model` unless configured). */
  deployment: string;
  provider: string;
  model: string;
  kind: AttemptKind;
  /** Backoff waited before this retry, ms. */
  retryDelayMs?: number;
  /** Set when the attempt ended; a stream's attempt ends with the stream. */
  outcome?: 'ok' | 'error' | 'cancelled';
  errorCode?: string;
  /** Time to the answer (whole call) or to the first token (stream), ms. */
  firstByteMs?: number;
}

/** What the router did for a call (`response.flowgate.router`, `stream.meta.router`). */
export interface RouterMeta {
  /** The model name the call asked for (alias or concrete model). */
  group: string;
  strategy: string;
  attempts: RouterAttemptInfo[];
  /** Attempts at a deployment not tried before in this call, after a failure. */
  fallbacks: number;
  /** Attempts at a deployment already tried in this call, after a backoff. */
  retries: number;
  /** A hedge attempt was sent. */
  hedged: boolean;
}

declare module '@flowgate/core' {
  interface CallOptions {
    router?: RouterCallOptions;
  }
  interface CallMeta {
    router?: RouterMeta;
  }
}
