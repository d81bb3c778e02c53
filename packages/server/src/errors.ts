import {
  ConfigError,
  ContextLengthError,
  ErrorCode,
  FlowgateError,
  InvalidRequestError,
  RateLimitError,
} from '@flowgate/core';

/** The OpenAI error object, as the official clients parse it. */
export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error answer: HTTP status, the OpenAI-shaped body, and headers (Retry-After...). */
export interface ErrorAnswer {
  status: number;
  error: OpenAIErrorObject;
  headers?: Record<string, string>;
}

/**
 * A refusal decided by the server itself (bad body, bad key, overload), carrying its answer.
 * Thrown inside handlers and turned into the response by `errorAnswer`.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** A configuration mistake, with the path of the offending field (`providers[0].baseURL`). */
export class InvalidConfigError extends ConfigError {
  override name = 'InvalidConfigError';
  /** Path of the first offending field. */
  readonly path: string;
  /** Every problem found, in order. */
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[], source?: string) {
    const where = source ? ` in ${source}` : '';
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    super(`invalid flowgate configuration${where}:\n${lines}`);
    this.issues = issues;
    this.path = issues[0]?.path ?? '';
  }
}

/** Codes plugins throw that the core does not define; matched by code, never by message. */
const BUDGET_EXCEEDED = ErrorCode.BUDGET_EXCEEDED;
const POOL_SATURATED = ErrorCode.POOL_SATURATED;

function answer(
  status: number,
  type: string,
  message: string,
  code: string | null,
  param: string | null = null,
  headers?: Record<string, string>,
): ErrorAnswer {
  const a: ErrorAnswer = { status, error: { message, type, param, code } };
  if (headers) a.headers = headers;
  return a;
}

function retryAfter(ms: number | undefined, fallbackSeconds: number): Record<string, string> {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return { 'retry-after': String(fallbackSeconds) };
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))), 'retry-after-ms': String(Math.ceil(ms)) };
}

/**
 * Maps any failure to the status, OpenAI error body and headers the client sees.
 * The table is in the README; unknown non-flowgate errors become a 500 without their message
 * (it may carry internals), flowgate errors keep theirs (providers redact keys from upstream text).
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) return answer(err.status, err.type, err.message, err.code, err.param, err.headers);
  if (!(err instanceof FlowgateError)) {
    return answer(500, 'server_error', 'internal error in the gateway', 'internal_error');
  }
  const flowgateCode = { 'x-flowgate-error-code': err.code };
  switch (err.code) {
    case ErrorCode.INVALID_REQUEST:
      return answer(
        400,
        'invalid_request_error',
        err.message,
        null,
        err instanceof InvalidRequestError ? err.field : null,
        flowgateCode,
      );
    case ErrorCode.NO_PROVIDER:
      return answer(404, 'invalid_request_error', err.message, 'model_not_found', 'model', flowgateCode);
    case ErrorCode.CONTEXT_LENGTH:
      return answer(
        400,
        'invalid_request_error',
        err.message,
        'context_length_exceeded',
        err instanceof ContextLengthError ? 'messages' : null,
        flowgateCode,
      );
    case ErrorCode.CONTENT_FILTER:
      return answer(400, 'invalid_request_error', err.message, 'content_filter', null, flowgateCode);
    case ErrorCode.UPSTREAM_CLIENT: {
      // The upstream refused the request itself: the caller's request is what is wrong.
      const s = err.status;
      const status = s !== undefined && s >= 400 && s < 500 && s !== 401 && s !== 403 && s !== 407 ? s : 400;
      return answer(status, 'invalid_request_error', err.message, 'upstream_rejected', null, flowgateCode);
    }
    case ErrorCode.UPSTREAM_AUTH:
      // The gateway's own upstream key is wrong: not the caller's fault, and not a 401 for them.
      return answer(502, 'server_error', err.message, 'upstream_auth_failed', null, flowgateCode);
    case ErrorCode.RATE_LIMITED:
      return answer(429, 'rate_limit_error', err.message, 'rate_limit_exceeded', null, {
        ...flowgateCode,
        ...retryAfter(err instanceof RateLimitError ? err.retryAfterMs : undefined, 1),
      });
    case BUDGET_EXCEEDED:
      // OpenAI answers an exhausted quota with 429 insufficient_quota; waiting does not help, so
      // `x-should-retry: false` keeps the official clients from retrying it.
      return answer(429, 'insufficient_quota', err.message, 'budget_exceeded', null, {
        ...flowgateCode,
        'x-should-retry': 'false',
      });
    case ErrorCode.TIMEOUT:
      return answer(504, 'timeout_error', err.message, 'timeout', null, flowgateCode);
    case ErrorCode.UPSTREAM_SERVER:
    case ErrorCode.CONNECTION:
    case ErrorCode.MALFORMED_RESPONSE:
    case ErrorCode.STREAM_TRUNCATED:
      return answer(502, 'server_error', err.message, 'upstream_error', null, flowgateCode);
    case ErrorCode.ABORTED:
      // Nobody reads it (the client left), but the access count records it as 499.
      return answer(499, 'invalid_request_error', err.message, 'client_closed_request', null, flowgateCode);
    case ErrorCode.CLOSED:
    case POOL_SATURATED:
      return answer(503, 'server_error', err.message, 'service_unavailable', null, {
        ...flowgateCode,
        'retry-after': '1',
      });
    default:
      if (err.retryable) {
        return answer(503, 'server_error', err.message, 'service_unavailable', null, {
          ...flowgateCode,
          'retry-after': '1',
        });
      }
      if (err.status !== undefined && err.status >= 400 && err.status < 500) {
        return answer(err.status, 'invalid_request_error', err.message, null, null, flowgateCode);
      }
      return answer(500, 'server_error', err.message, 'internal_error', null, flowgateCode);
  }
}

/** The JSON body of an error answer: `{ error: { message, type, param, code } }`. */
export function errorJson(a: ErrorAnswer): string {
  return JSON.stringify({ error: a.error });
}
