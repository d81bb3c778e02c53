/** Error bodies in each protocol's format, with the type each real API uses for a status. */

export type ErrorFormat = 'openai' | 'anthropic';

export interface ErrorDetails {
  message?: string | undefined;
  /** OpenAI `error.code`. */
  code?: string | undefined;
  /** OpenAI `error.param`. */
  param?: string | undefined;
}

function openaiType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function openaiCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

function anthropicType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function defaultMessage(status: number, code: string | undefined): string {
  if (code === 'context_length_exceeded') {
    return 'prompt is too long: the messages exceed the maximum context length of this model';
  }
  switch (status) {
    case 400:
      return 'Invalid request.';
    case 401:
      return 'Incorrect API key provided.';
    case 404:
      return 'Not found.';
    case 429:
      return 'Rate limit reached for requests (mock).';
    case 500:
      return 'The server had an error while processing your request (mock).';
    case 502:
      return 'Bad gateway (mock).';
    case 503:
    case 529:
      return 'The server is overloaded (mock).';
    default:
      return `Mock error ${status}.`;
  }
}

/** The JSON error body for `status`, in `format`. */
export function errorBody(format: ErrorFormat, status: number, details: ErrorDetails = {}): string {
  const message = details.message ?? defaultMessage(status, details.code);
  if (format === 'anthropic') {
    return JSON.stringify({ type: 'error', error: { type: anthropicType(status), message } });
  }
  const type = details.code === 'context_length_exceeded' ? 'invalid_request_error' : openaiType(status);
  const param = details.param ?? (details.code === 'context_length_exceeded' ? 'messages' : null);
  return JSON.stringify({ error: { message, type, param, code: details.code ?? openaiCode(status) } });
}
