import {
  AbortError,
  ConnectionError,
  ContentFilterError,
  ContextLengthError,
  FlowgateError,
  MalformedResponseError,
  RateLimitError,
  StreamTruncatedError,
  TimeoutError,
  UpstreamAuthError,
  UpstreamClientError,
  UpstreamServerError,
} from '@flowgate/core';

/** Response headers as undici gives them (lower-case names). */
export type IncomingHttpHeaders = Record<string, string | string[] | undefined>;

/** Provider identity needed to build errors: the id to report and the secret to keep out of messages. */
export interface ErrorScope {
  readonly providerId: string;
  /** The API key; every occurrence in upstream text is replaced before it reaches an error. */
  readonly secret: string | undefined;
}

const REDACTED = '[REDACTED]';
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g;

/** Removes the API key (and any bearer token) from text that came from, or is about to go to, the outside. */
export function redact(text: string, secret: string | undefined): string {
  let out = text;
  if (secret !== undefined && secret.length > 0 && out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  if (out.includes('Bearer')) out = out.replace(BEARER, `$1${REDACTED}`);
  return out;
}

/** `text` cut to `max` characters, for quoting upstream bodies in messages. */
export function snippet(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Delay asked for by `retry-after-ms` (ms) or `Retry-After` (seconds or an HTTP date), in ms. */
export function parseRetryAfter(headers: IncomingHttpHeaders | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined) {
    const n = Number(ms);
    if (ms.trim() !== '' && Number.isFinite(n) && n >= 0) return n;
  }
  const ra = first(headers['retry-after']);
  if (ra === undefined || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(ra);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What an upstream error body says, in the shapes OpenAI and Anthropic use. */
export interface UpstreamErrorInfo {
  message: string | undefined;
  /** OpenAI `error.code` (`context_length_exceeded`, `rate_limit_exceeded`, ...). */
  code: string | undefined;
  /** OpenAI `error.type` / Anthropic `error.type` (`invalid_request_error`, `overloaded_error`, ...). */
  type: string | undefined;
}

/** Reads `{error: {message, code, type}}` (OpenAI), `{type: 'error', error: {type, message}}` (Anthropic) and kin. */
export function errorInfo(body: unknown): UpstreamErrorInfo {
  const info: UpstreamErrorInfo = { message: undefined, code: undefined, type: undefined };
  if (body === null || typeof body !== 'object') return info;
  const b = body as Record<string, unknown>;
  const e = b.error;
  if (typeof e === 'string') info.message = e;
  else if (e !== null && typeof e === 'object') {
    const eo = e as Record<string, unknown>;
    if (typeof eo.message === 'string') info.message = eo.message;
    if (typeof eo.code === 'string') info.code = eo.code;
    else if (typeof eo.code === 'number') info.code = String(eo.code);
    if (typeof eo.type === 'string') info.type = eo.type;
  }
  if (info.message === undefined) {
    if (typeof b.message === 'string') info.message = b.message;
    else if (typeof b.detail === 'string') info.message = b.detail;
  }
  if (info.code === undefined && typeof b.code === 'string') info.code = b.code;
  return info;
}

/** Longest error message we build from upstream text. */
const MAX_MESSAGE = 1000;

const CONTEXT_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
const CONTEXT_TEXT = /prompt is too long|context[ _]length|context window|maximum context|too many (?:input )?tokens/i;
const FILTER_CODES = new Set(['content_filter', 'content_policy_violation']);

/**
 * The typed error for an upstream non-2xx answer. `bodyText` is the raw error body (already capped);
 * its message is quoted, with the API key redacted.
 */
export function httpError(
  scope: ErrorScope,
  status: number,
  headers: IncomingHttpHeaders | undefined,
  bodyText: string,
): FlowgateError {
  let parsed: unknown;
  try {
    parsed = bodyText.length > 0 ? JSON.parse(bodyText) : undefined;
  } catch {
    parsed = undefined;
  }
  const info = errorInfo(parsed);
  if (info.message === undefined && parsed === undefined && bodyText.length > 0) {
    info.message = snippet(redact(bodyText, scope.secret));
  }
  return statusError(scope, status, info, headers);
}

/** Maps a status plus what the body said to the core's error classes. */
export function statusError(
  scope: ErrorScope,
  status: number,
  info: UpstreamErrorInfo,
  headers?: IncomingHttpHeaders,
): FlowgateError {
  const detail = info.message ?? info.code ?? info.type ?? 'no error message';
  const what = info.code ?? info.type;
  // Redact before cutting: a cut through the key would leave a prefix that no longer matches it.
  const message = snippet(
    redact(
      `${scope.providerId}: upstream ${status}${what !== undefined && what !== detail ? ` ${what}` : ''}: ${detail}`,
      scope.secret,
    ),
    MAX_MESSAGE,
  );
  const options = { status, provider: scope.providerId };
  const code = info.code;
  if (status === 429) {
    // Out of quota is not a transient condition: retrying it elsewhere on the same account will not help.
    if (code === 'insufficient_quota') return new UpstreamClientError(message, options);
    return new RateLimitError(message, { ...options, retryAfterMs: parseRetryAfter(headers) });
  }
  if (status >= 500) return new UpstreamServerError(message, options);
  if (status === 401 || status === 403) return new UpstreamAuthError(message, options);
  if (status === 408) return new TimeoutError(message, options);
  if ((code !== undefined && FILTER_CODES.has(code)) || info.type === 'content_filter') {
    return new ContentFilterError(message, options);
  }
  if (
    (code !== undefined && CONTEXT_CODES.has(code)) ||
    ((status === 400 || status === 413) && info.message !== undefined && CONTEXT_TEXT.test(info.message))
  ) {
    return new ContextLengthError(message, options);
  }
  return new UpstreamClientError(message, options);
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const CONNECTION_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** Where a transport failure happened: before the headers, while reading a whole body, or mid-stream. */
export type Phase = 'request' | 'body' | 'stream';

/**
 * Maps a thrown value (undici error, socket error, abort reason) to a typed error. FlowgateErrors pass through.
 * An aborted `signal` wins: its reason is rethrown if it is a FlowgateError (a deadline the core set), else the
 * call becomes an `AbortError`. A connection lost mid-stream is a `StreamTruncatedError`.
 */
export function transportError(
  scope: ErrorScope,
  err: unknown,
  signal: AbortSignal | undefined,
  phase: Phase,
): FlowgateError {
  if (err instanceof FlowgateError) return err;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof FlowgateError) return reason;
    return new AbortError(`${scope.providerId}: the call was aborted`, safeCause(reason, scope.secret));
  }
  const code = errorCode(err);
  const text = redact(err instanceof Error ? err.message : String(err), scope.secret);
  const options = { provider: scope.providerId, cause: safeCause(err, scope.secret) };
  if (code !== undefined) {
    if (TIMEOUT_CODES.has(code)) return new TimeoutError(`${scope.providerId}: ${text}`, options);
    if (CONNECTION_CODES.has(code) || /other side closed/i.test(text)) {
      if (phase === 'stream') {
        return new StreamTruncatedError(`${scope.providerId}: stream cut off: ${text}`, options);
      }
      return new ConnectionError(`${scope.providerId}: ${text}`, options);
    }
    if (code.startsWith('HPE_') || code.startsWith('Z_')) {
      return new MalformedResponseError(`${scope.providerId}: invalid response framing: ${text}`, options);
    }
  }
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_ABORT' || (err instanceof Error && err.name === 'AbortError')) {
    return new AbortError(`${scope.providerId}: the call was aborted`, options.cause);
  }
  return new ConnectionError(`${scope.providerId}: ${text}`, options);
}

/** `err`, or a redacted stand-in when its text carries the secret (a cause is as visible as a message). */
function safeCause(err: unknown, secret: string | undefined): unknown {
  if (secret === undefined || secret.length === 0 || !(err instanceof Error)) return err;
  if (!err.message.includes(secret) && !(err.stack?.includes(secret) ?? false)) return err;
  const copy = new Error(redact(err.message, secret));
  copy.name = err.name;
  const code = errorCode(err);
  if (code !== undefined) (copy as Error & { code?: string }).code = code;
  return copy;
}

function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connect failures arrive as an AggregateError of per-address errors.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return undefined;
}

export function malformed(scope: ErrorScope, what: string, text: string, status?: number): MalformedResponseError {
  // Redact before cutting: a cut through the key would leave a prefix that no longer matches it.
  return new MalformedResponseError(`${scope.providerId}: ${what}: ${snippet(redact(text, scope.secret))}`, {
    provider: scope.providerId,
    ...(status !== undefined ? { status } : {}),
  });
}

/** Status implied by an error `type`/`code` that arrived in a 200 body or mid-stream (no HTTP status of its own). */
const TYPE_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  context_length_exceeded: 400,
  content_filter: 400,
  content_policy_violation: 400,
  api_error: 500,
  server_error: 500,
  overloaded_error: 529,
};

/** The typed error for an error object delivered in-band (a 200 JSON body, an SSE `error` event). */
export function inBandError(scope: ErrorScope, body: unknown): FlowgateError {
  const info = errorInfo(body);
  const status =
    (info.code !== undefined ? TYPE_STATUS[info.code] : undefined) ??
    (info.type !== undefined ? TYPE_STATUS[info.type] : undefined) ??
    500;
  return statusError(scope, status, info);
}

/** True when `value` is an object carrying an `error` member (and so is an error report, not an answer). */
export function hasError(value: object): boolean {
  return 'error' in value && (value as { error: unknown }).error != null;
}
