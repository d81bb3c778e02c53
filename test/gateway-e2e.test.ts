/**
 * The gateway end to end: core + providers over real HTTP to the mock provider.
 */
import {
  AbortError,
  type ChatCompletionRequest,
  ConnectionError,
  createGateway,
  ErrorCode,
  type Gateway,
  MalformedResponseError,
  RateLimitError,
  type Router,
  StreamTruncatedError,
  TimeoutError,
  UpstreamServerError,
} from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { anthropic, openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../packages/core/src/fakes.test-util.js';

let mock: MockProvider;
const gateways: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-e2e-secret' });
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  mock.reset();
});
afterAll(() => mock.close());

const req = (model: string, content = 'tell me about connection pools please'): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content }],
});

function gatewayFor(kind: 'openai' | 'anthropic', extra: Partial<Parameters<typeof createGateway>[0]> = {}) {
  const provider =
    kind === 'openai'
      ? openai({ apiKey: 'sk-e2e-secret', baseURL: `${mock.url}/v1` })
      : anthropic({ apiKey: 'sk-e2e-secret', baseURL: mock.url, models: () => true });
  const gw = createGateway({ providers: [provider], ...extra });
  gateways.push(gw);
  return gw;
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe.each(['openai', 'anthropic'] as const)('gateway over %s to the mock', (kind) => {
  it('answers whole and streamed with identical content and usage', async () => {
    const gw = gatewayFor(kind);
    const whole = await gw.complete(req('m1'));
    const stream = gw.stream(req('m1'));
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    const streamed = await stream.response;
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(streamed.choices[0]?.message.content).toBe(whole.choices[0]?.message.content);
    expect(streamed.usage).toEqual(whole.usage);
    expect(whole.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(mock.stats().streamsCompleted).toBe(1);
  });

  it('hands the first chunk to the caller before the mock has sent its last', async () => {
    mock.configure('slow', {
      tokensPerSecond: 20,
      text: 'one two three four five six seven eight nine ten eleven twelve',
    });
    const gw = gatewayFor(kind);
    const stream = gw.stream(req('slow'));
    const it = stream[Symbol.asyncIterator]();
    let first = await it.next();
    while (!first.done && !first.value.choices[0]?.delta.content) first = await it.next();
    expect(first.done).toBe(false);
    expect(mock.stats().streamsCompleted).toBe(0);
    await it.return?.();
  });

  it('closes the upstream stream when the caller aborts mid-stream', async () => {
    mock.configure('slow', { tokensPerSecond: 20, text: 'a b c d e f g h i j k l m n o p' });
    const gw = gatewayFor(kind);
    const ac = new AbortController();
    const stream = gw.stream(req('slow'), { signal: ac.signal });
    const err = await (async () => {
      let n = 0;
      for await (const c of stream) if (c.choices[0]?.delta.content && ++n === 2) ac.abort();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    await until(() => mock.stats().streamsAborted === 1);
    expect(mock.stats().streamsCompleted).toBe(0);
  });

  it('closes the upstream stream when the reader stops early', async () => {
    mock.configure('slow', { tokensPerSecond: 20, text: 'a b c d e f g h i j k l m n o p' });
    const gw = gatewayFor(kind);
    for await (const c of gw.stream(req('slow'))) if (c.choices[0]?.delta.content) break;
    await until(() => mock.stats().streamsAborted === 1);
  });

  it('times out a hanging upstream with FLOWGATE_ERR_TIMEOUT and frees the request', async () => {
    mock.script('hang', [{ type: 'hang' }]);
    const gw = gatewayFor(kind);
    const err = await gw.complete(req('hang'), { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe(ErrorCode.TIMEOUT);
    await until(() => mock.stats().requestsAborted === 1);
  });

  it.each([
    [{ type: 'status', status: 429, retryAfter: 2 } as const, RateLimitError, false],
    [{ type: 'status', status: 503 } as const, UpstreamServerError, false],
    [{ type: 'reset' } as const, ConnectionError, false],
    [{ type: 'malformed-json' } as const, MalformedResponseError, false],
    [{ type: 'malformed-sse' } as const, MalformedResponseError, true],
    [{ type: 'truncate' } as const, StreamTruncatedError, true],
  ])('maps %o to its typed error', async (fault, ErrorClass, streamed) => {
    mock.script('faulty', [fault]);
    const gw = gatewayFor(kind);
    const err = streamed
      ? await (async () => {
          for await (const _ of gw.stream(req('faulty'))) {
            // read until it fails
          }
        })().catch((e: unknown) => e)
      : await gw.complete(req('faulty')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorClass);
    expect(String((err as Error).message)).not.toContain('sk-e2e-secret');
    if (err instanceof RateLimitError) expect(err.retryAfterMs).toBe(2000);
  });
});

describe('gateway over the mock: routing and telemetry', () => {
  it('falls back to the next target on a 503 and lists both attempts', async () => {
    const a = openai({ id: 'a', apiKey: 'sk-e2e-secret', baseURL: `${mock.url}/v1` });
    const b = anthropic({ id: 'b', apiKey: 'sk-e2e-secret', baseURL: mock.url, models: () => true });
    mock.script('primary', [{ type: 'status', status: 503 }]);
    const router: Router = {
      name: 'two',
      plan: (ctx) => [
        { provider: a, model: 'primary' },
        { provider: b, model: `${ctx.request.model}-backup` },
      ],
    };
    const gw = createGateway({ providers: [a, b], plugins: [{ name: 'r', setup: (h) => h.setRouter(router) }] });
    gateways.push(gw);
    const res = await gw.complete(req('primary'));
    expect(res.flowgate.provider).toBe('b');
    expect(res.model).toBe('primary-backup');
    expect(res.flowgate.attempts.map((x) => [x.provider, x.outcome, x.errorCode])).toEqual([
      ['a', 'error', ErrorCode.UPSTREAM_SERVER],
      ['b', 'ok', undefined],
    ]);
  });

  it('traces a streamed call with server address and usage, keys never recorded', async () => {
    const t = telemetry();
    const gw = gatewayFor('openai', { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    for await (const _ of gw.stream(req('traced'))) {
      // read to the end
    }
    const spans = await t.spans();
    const call = spans.find((s) => s.name === 'chat traced')!;
    expect(call.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'server.address': '127.0.0.1',
      'server.port': mock.port,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.events]))).not.toContain('sk-e2e-secret');
    const metrics = (await t.metrics()).scopeMetrics.flatMap((s) => s.metrics);
    expect(metrics.find((m) => m.descriptor.name === 'gen_ai.client.operation.time_to_first_chunk')).toBeDefined();
  });
});
