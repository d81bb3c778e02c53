import {
  AbortError,
  ConnectionError,
  ContentFilterError,
  ContextLengthError,
  ErrorCode,
  RateLimitError,
  StreamTruncatedError,
  TimeoutError,
  UpstreamAuthError,
  UpstreamClientError,
  UpstreamServerError,
} from '@flowgate/core';
import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { httpError, inBandError, malformed, parseRetryAfter, redact, transportError } from './errors.js';

const scope = { providerId: 'p1', secret: 'sk-secret-123456' };

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after-ms': '1500' }, 1500],
    [{ 'retry-after-ms': '250.5', 'retry-after': '9' }, 250.5],
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }, 7000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }, 0],
    [{ 'retry-after-ms': 'soon', 'retry-after': '2' }, 2000],
    [{ 'retry-after': 'whenever' }, undefined],
    [{ 'retry-after': '-1' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, expected) => {
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });
});

describe('httpError', () => {
  const openaiBody = (message: string, code?: string, type = 'invalid_request_error') =>
    JSON.stringify({ error: { message, type, code: code ?? null, param: null } });
  const anthropicBody = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

  it.each([
    [429, openaiBody('slow down', 'rate_limit_exceeded'), RateLimitError, ErrorCode.RATE_LIMITED, true],
    [429, openaiBody('no money', 'insufficient_quota'), UpstreamClientError, ErrorCode.UPSTREAM_CLIENT, false],
    [
      500,
      openaiBody('boom', null as unknown as string, 'server_error'),
      UpstreamServerError,
      ErrorCode.UPSTREAM_SERVER,
      true,
    ],
    [502, '<html>bad gateway</html>', UpstreamServerError, ErrorCode.UPSTREAM_SERVER, true],
    [503, '', UpstreamServerError, ErrorCode.UPSTREAM_SERVER, true],
    [529, anthropicBody('overloaded_error', 'Overloaded'), UpstreamServerError, ErrorCode.UPSTREAM_SERVER, true],
    [401, openaiBody('bad key', 'invalid_api_key'), UpstreamAuthError, ErrorCode.UPSTREAM_AUTH, false],
    [403, anthropicBody('permission_error', 'nope'), UpstreamAuthError, ErrorCode.UPSTREAM_AUTH, false],
    [400, openaiBody('too long', 'context_length_exceeded'), ContextLengthError, ErrorCode.CONTEXT_LENGTH, false],
    [
      400,
      anthropicBody('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'),
      ContextLengthError,
      ErrorCode.CONTEXT_LENGTH,
      false,
    ],
    [400, openaiBody('filtered', 'content_filter'), ContentFilterError, ErrorCode.CONTENT_FILTER, false],
    [400, openaiBody('policy', 'content_policy_violation'), ContentFilterError, ErrorCode.CONTENT_FILTER, false],
    [
      400,
      anthropicBody('invalid_request_error', 'messages: field required'),
      UpstreamClientError,
      ErrorCode.UPSTREAM_CLIENT,
      false,
    ],
    [404, openaiBody('no such model', 'model_not_found'), UpstreamClientError, ErrorCode.UPSTREAM_CLIENT, false],
    [408, '', TimeoutError, ErrorCode.TIMEOUT, true],
  ])('%i %s', (status, body, cls, code, retryable) => {
    const err = httpError(scope, status, { 'retry-after': '2' }, body);
    expect(err).toBeInstanceOf(cls);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.provider).toBe('p1');
    expect(err.message).toContain(`p1: upstream ${status}`);
  });

  it('quotes the upstream message and sets retryAfterMs on 429', () => {
    const err = httpError(
      scope,
      429,
      { 'retry-after-ms': '120' },
      JSON.stringify({ error: { message: 'Rate limit reached' } }),
    );
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfterMs).toBe(120);
    expect(err.message).toContain('Rate limit reached');
  });

  it('quotes a non-JSON body, cut short', () => {
    const err = httpError(scope, 502, {}, `<html>${'x'.repeat(1000)}</html>`);
    expect(err.message).toContain('<html>xxx');
    expect(err.message.length).toBeLessThan(300);
  });

  it('redacts an API key echoed back by the upstream', () => {
    const err = httpError(
      scope,
      401,
      {},
      JSON.stringify({
        error: { message: `Incorrect API key provided: ${scope.secret}. Header was Bearer ${scope.secret}` },
      }),
    );
    expect(err.message).not.toContain(scope.secret);
    expect(err.message).toContain('[REDACTED]');
  });
});

describe('redaction at the cut', () => {
  it('never leaves a prefix of the key where a quote is cut short', () => {
    const prefix = scope.secret.slice(0, 8);
    for (const pad of [190, 195, 199, 995, 999]) {
      const body = `${'x'.repeat(pad)}${scope.secret} and more text after it ${'y'.repeat(1000)}`;
      expect(httpError(scope, 502, {}, body).message).not.toContain(prefix);
      expect(httpError(scope, 400, {}, JSON.stringify({ error: { message: body } })).message).not.toContain(prefix);
      expect(malformed(scope, 'bad', body).message).not.toContain(prefix);
    }
  });
});

describe('inBandError', () => {
  it('maps Anthropic stream error events by type', () => {
    const overloaded = inBandError(scope, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(overloaded).toBeInstanceOf(UpstreamServerError);
    expect(overloaded.status).toBe(529);
    expect(inBandError(scope, { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } })).toBeInstanceOf(
      RateLimitError,
    );
    expect(
      inBandError(scope, { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }),
    ).toBeInstanceOf(UpstreamClientError);
  });

  it('maps OpenAI-style in-band errors, defaulting to a server error', () => {
    expect(inBandError(scope, { error: { message: 'x', code: 'context_length_exceeded' } })).toBeInstanceOf(
      ContextLengthError,
    );
    expect(inBandError(scope, { error: { message: 'something broke' } })).toBeInstanceOf(UpstreamServerError);
  });
});

describe('redact', () => {
  it('removes the secret and bearer tokens', () => {
    expect(redact('key sk-secret-123456 here sk-secret-123456', scope.secret)).toBe('key [REDACTED] here [REDACTED]');
    expect(redact('Authorization: Bearer abcdefghijkl', undefined)).toBe('Authorization: Bearer [REDACTED]');
    expect(redact('nothing to hide', scope.secret)).toBe('nothing to hide');
  });
});

describe('transportError', () => {
  const live = new AbortController().signal;

  it.each([
    [new undiciErrors.HeadersTimeoutError(), TimeoutError],
    [new undiciErrors.BodyTimeoutError(), TimeoutError],
    [new undiciErrors.ConnectTimeoutError(), TimeoutError],
    [new undiciErrors.SocketError('other side closed'), ConnectionError],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), ConnectionError],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), ConnectionError],
    [new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], 'connect'), ConnectionError],
  ])('%s -> %o', (err, cls) => {
    const mapped = transportError(scope, err, live, 'request');
    expect(mapped).toBeInstanceOf(cls);
    expect(mapped.provider).toBe('p1');
    expect(mapped.cause).toBe(err);
  });

  it('calls a connection lost mid-stream a truncated stream', () => {
    const mapped = transportError(scope, new undiciErrors.SocketError('other side closed'), live, 'stream');
    expect(mapped).toBeInstanceOf(StreamTruncatedError);
  });

  it('turns an aborted signal into AbortError, or rethrows a FlowgateError reason', () => {
    const c1 = new AbortController();
    c1.abort(new Error('client went away'));
    const a = transportError(scope, c1.signal.reason, c1.signal, 'request');
    expect(a).toBeInstanceOf(AbortError);
    expect(a.code).toBe(ErrorCode.ABORTED);

    const deadline = new TimeoutError('deadline passed');
    const c2 = new AbortController();
    c2.abort(deadline);
    expect(transportError(scope, deadline, c2.signal, 'stream')).toBe(deadline);
  });

  it('passes FlowgateErrors through untouched', () => {
    const e = new UpstreamServerError('x');
    expect(transportError(scope, e, live, 'body')).toBe(e);
  });

  it('never leaks the secret from an error text', () => {
    const mapped = transportError(scope, new Error(`weird failure with ${scope.secret}`), live, 'request');
    expect(mapped.message).not.toContain(scope.secret);
    expect(String(mapped.cause)).not.toContain(scope.secret);
    expect((mapped.cause as Error).stack).not.toContain(scope.secret);
  });
});
