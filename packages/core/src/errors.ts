/**
 * Typed errors with stable codes. Callers branch on `code` or `instanceof`, never on messages.
 * `retryable` says whether the same request may succeed if sent again (to this or another target).
 */

export const ErrorCode = {
  INVALID_REQUEST: 'FLOWGATE_ERR_INVALID_REQUEST',
  NO_PROVIDER: 'FLOWGATE_ERR_NO_PROVIDER',
  CONFIG: 'FLOWGATE_ERR_CONFIG',
  MIDDLEWARE: 'FLOWGATE_ERR_MIDDLEWARE',
  RATE_LIMITED: 'FLOWGATE_ERR_RATE_LIMITED',
  UPSTREAM_SERVER: 'FLOWGATE_ERR_UPSTREAM_SERVER',
  UPSTREAM_CLIENT: 'FLOWGATE_ERR_UPSTREAM_CLIENT',
  UPSTREAM_AUTH: 'FLOWGATE_ERR_UPSTREAM_AUTH',
  CONTEXT_LENGTH: 'FLOWGATE_ERR_CONTEXT_LENGTH_EXCEEDED',
  CONTENT_FILTER: 'FLOWGATE_ERR_CONTENT_FILTER',
  TIMEOUT: 'FLOWGATE_ERR_TIMEOUT',
  CONNECTION: 'FLOWGATE_ERR_CONNECTION',
  MALFORMED_RESPONSE: 'FLOWGATE_ERR_MALFORMED_RESPONSE',
  STREAM_TRUNCATED: 'FLOWGATE_ERR_STREAM_TRUNCATED',
  ABORTED: 'FLOWGATE_ERR_ABORTED',
  CLOSED: 'FLOWGATE_ERR_CLOSED',
  // Raised by plugins; listed here so that every layer (the server's HTTP mapping, routers) shares one name.
  BUDGET_EXCEEDED: 'FLOWGATE_ERR_BUDGET_EXCEEDED',
  POOL_SATURATED: 'FLOWGATE_ERR_POOL_SATURATED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FlowgateErrorOptions {
  retryable?: boolean;
  /** Upstream HTTP status, where there is one. */
  status?: number;
  /** Id of the provider that produced the failure, where known. */
  provider?: string;
  cause?: unknown;
}

export class FlowgateError extends Error {
  override name = 'FlowgateError';
  readonly code: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly provider: string | undefined;

  constructor(code: string, message: string, options: FlowgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.provider = options.provider;
  }
}

/** A request that failed validation at the door; `field` is a JSON path such as `messages[2].role`. */
export class InvalidRequestError extends FlowgateError {
  override name = 'InvalidRequestError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(ErrorCode.INVALID_REQUEST, `invalid request: ${field}: ${message}`, { status: 400 });
    this.field = field;
  }
}

export class NoProviderError extends FlowgateError {
  override name = 'NoProviderError';
  readonly model: string;
  constructor(model: string) {
    super(ErrorCode.NO_PROVIDER, `no provider serves model "${model}"`, { status: 404 });
    this.model = model;
  }
}

/** A mistake in how the gateway or a plugin was configured; thrown at creation. */
export class ConfigError extends FlowgateError {
  override name = 'ConfigError';
  constructor(message: string) {
    super(ErrorCode.CONFIG, message);
  }
}

export class MiddlewareError extends FlowgateError {
  override name = 'MiddlewareError';
  constructor(message: string) {
    super(ErrorCode.MIDDLEWARE, message);
  }
}

/** Any failure reported by, or on the way to, an upstream provider. */
export class UpstreamError extends FlowgateError {
  override name = 'UpstreamError';
}

export class RateLimitError extends UpstreamError {
  override name = 'RateLimitError';
  /** Delay the provider asked for (Retry-After / retry-after-ms), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: FlowgateErrorOptions & { retryAfterMs?: number | undefined } = {}) {
    super(ErrorCode.RATE_LIMITED, message, { status: 429, ...options, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class UpstreamServerError extends UpstreamError {
  override name = 'UpstreamServerError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(ErrorCode.UPSTREAM_SERVER, message, { ...options, retryable: true });
  }
}

/** A 4xx other than 429: the request itself is wrong for this provider; not retryable. */
export class UpstreamClientError extends UpstreamError {
  override name = 'UpstreamClientError';
  constructor(message: string, options: FlowgateErrorOptions = {}, code: string = ErrorCode.UPSTREAM_CLIENT) {
    super(code, message, { ...options, retryable: false });
  }
}

export class UpstreamAuthError extends UpstreamClientError {
  override name = 'UpstreamAuthError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(message, options, ErrorCode.UPSTREAM_AUTH);
  }
}

/** The prompt does not fit the model's context window; a larger-window model may succeed. */
export class ContextLengthError extends UpstreamClientError {
  override name = 'ContextLengthError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(message, options, ErrorCode.CONTEXT_LENGTH);
  }
}

export class ContentFilterError extends UpstreamClientError {
  override name = 'ContentFilterError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(message, options, ErrorCode.CONTENT_FILTER);
  }
}

/** A deadline passed: the call's `timeoutMs`, or a transport timeout (headers, body, stall). */
export class TimeoutError extends UpstreamError {
  override name = 'TimeoutError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(ErrorCode.TIMEOUT, message, { ...options, retryable: true });
  }
}

export class ConnectionError extends UpstreamError {
  override name = 'ConnectionError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(ErrorCode.CONNECTION, message, { ...options, retryable: true });
  }
}

/** A body that is not the JSON or SSE the protocol promises. */
export class MalformedResponseError extends UpstreamError {
  override name = 'MalformedResponseError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(ErrorCode.MALFORMED_RESPONSE, message, { ...options, retryable: true });
  }
}

/** A stream that ended before its terminator (`data: [DONE]`, `message_stop`). */
export class StreamTruncatedError extends UpstreamError {
  override name = 'StreamTruncatedError';
  constructor(message: string, options: FlowgateErrorOptions = {}) {
    super(ErrorCode.STREAM_TRUNCATED, message, { ...options, retryable: true });
  }
}

/** The caller aborted (its signal fired, or it stopped reading a stream). */
export class AbortError extends FlowgateError {
  override name = 'AbortError';
  constructor(message = 'the call was aborted', cause?: unknown) {
    super(ErrorCode.ABORTED, message, { cause });
  }
}

export class GatewayClosedError extends FlowgateError {
  override name = 'GatewayClosedError';
  constructor() {
    super(ErrorCode.CLOSED, 'the gateway is closed');
  }
}

export function isFlowgateError(err: unknown): err is FlowgateError {
  return err instanceof FlowgateError;
}
