/**
 * Fault tests against the mock provider's injected faults, for whole and streamed calls: a flaky deployment
 * first (priority strategy), a healthy one behind it.
 */
import {
  createGateway,
  ErrorCode,
  type Gateway,
  MalformedResponseError,
  NoProviderError,
  RateLimitError,
  StreamTruncatedError,
  TimeoutError,
} from '@flowgate/core';
import { type Fault, type FaultRule, type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RouterOptions, router, StreamStallError } from './index.js';
import { ask, readStream, seeded } from './router.test-util.js';

const FLAKY = 'flaky';
const HEALTHY = 'healthy';
const HEALTHY_TEXT = 'healthy deployment answering here';

let mock: MockProvider;
const gateways: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider({
    models: { [FLAKY]: { text: 'flaky deployment answering with many words here' }, [HEALTHY]: { text: HEALTHY_TEXT } },
  });
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  mock.reset();
  mock.configure(FLAKY, { text: 'flaky deployment answering with many words here' }, { replace: true });
});
afterAll(async () => {
  await mock.close();
});

function gateway(extra: Partial<RouterOptions> = {}, deployments = [FLAKY, HEALTHY]): Gateway {
  const providers = ['a', 'b'].map((id) => openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const g = createGateway({
    providers,
    plugins: [
      router({
        models: {
          smart: deployments.map((model, i) => ({ provider: i === 0 ? 'a' : 'b', model, priority: i })),
        },
        strategy: 'priority',
        breaker: false,
        firstByteTimeoutMs: 400,
        stallTimeoutMs: 150,
        random: seeded(1),
        ...extra,
      }),
    ],
  });
  gateways.push(g);
  return g;
}

/** Faults that strike before any output reached the caller: the router must hide every one of them. */
const BEFORE_FIRST_CHUNK: [string, Fault, string][] = [
  ['429 with Retry-After', { type: 'status', status: 429, retryAfter: 1 }, ErrorCode.RATE_LIMITED],
  ['500', { type: 'status', status: 500 }, ErrorCode.UPSTREAM_SERVER],
  ['503', { type: 'status', status: 503 }, ErrorCode.UPSTREAM_SERVER],
  ['connection reset', { type: 'reset' }, ErrorCode.CONNECTION],
  ['hang', { type: 'hang' }, ErrorCode.TIMEOUT],
  ['malformed SSE / body', { type: 'malformed-sse' }, ErrorCode.MALFORMED_RESPONSE],
];

describe('whole calls: every fault of the first deployment falls back to the healthy one', () => {
  const whole: [string, Fault, string][] = [
    ...BEFORE_FIRST_CHUNK,
    ['stall mid-body', { type: 'stall', afterChunks: 0 }, ErrorCode.TIMEOUT],
    ['malformed JSON', { type: 'malformed-json' }, ErrorCode.MALFORMED_RESPONSE],
    ['truncated body', { type: 'truncate' }, ErrorCode.CONNECTION],
  ];
  for (const [name, fault, code] of whole) {
    it(name, async () => {
      mock.script(FLAKY, [fault]);
      const res = await gateway().complete(ask('smart'));
      expect(res.choices[0]?.message.content).toBe(HEALTHY_TEXT);
      expect(res.flowgate.provider).toBe('b');
      expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.kind, a.outcome, a.errorCode])).toEqual([
        ['a/flaky', 'first', 'error', code],
        ['b/healthy', 'fallback', 'ok', undefined],
      ]);
      expect(res.flowgate.router?.fallbacks).toBe(1);
    });
  }

  it('a hanging or stalled upstream is closed, not left running', async () => {
    mock.script(FLAKY, [{ type: 'hang' }, { type: 'stall', afterChunks: 0 }]);
    const g = gateway();
    await g.complete(ask('smart'));
    await g.complete(ask('smart'));
    await vi.waitFor(() => expect(mock.stats().requestsAborted).toBe(2));
  });
});

describe('streamed calls', () => {
  const beforeOutput: [string, Fault, string][] = [
    ...BEFORE_FIRST_CHUNK,
    ['stall before any event', { type: 'stall', afterChunks: 0 }, ErrorCode.TIMEOUT],
    ['stall after the role chunk (no output yet)', { type: 'stall', afterChunks: 1 }, ErrorCode.TIMEOUT],
    ['truncated after the role chunk', { type: 'truncate', afterChunks: 1 }, ErrorCode.STREAM_TRUNCATED],
  ];
  for (const [name, fault, code] of beforeOutput) {
    it(`falls back transparently: ${name}`, async () => {
      mock.script(FLAKY, [fault]);
      const { text, error, stream } = await readStream(gateway(), ask('smart'));
      expect(error).toBeUndefined();
      expect(text).toBe(HEALTHY_TEXT); // nothing of the failed attempt reached the caller
      const res = await stream.response;
      expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.outcome, a.errorCode])).toEqual([
        ['a/flaky', 'error', code],
        ['b/healthy', 'ok', undefined],
      ]);
    });
  }

  const afterOutput: [string, Fault, new (...args: never[]) => Error][] = [
    ['stall after output', { type: 'stall', afterChunks: 3 }, StreamStallError],
    ['malformed JSON event after output', { type: 'malformed-json' }, MalformedResponseError],
    ['truncated after output', { type: 'truncate', afterChunks: 4 }, StreamTruncatedError],
  ];
  for (const [name, fault, type] of afterOutput) {
    it(`gives the caller a typed error, never a silently cut answer: ${name}`, async () => {
      mock.script(FLAKY, [fault]);
      const { text, error, stream } = await readStream(gateway(), ask('smart'));
      expect(error).toBeInstanceOf(type);
      expect(text.startsWith('flaky')).toBe(true); // the caller did see output from the first deployment
      expect(text).not.toBe('flaky deployment answering with many words here');
      await expect(stream.response).rejects.toBe(error);
      expect(stream.meta.router?.attempts.map((a) => [a.deployment, a.outcome])).toEqual([['a/flaky', 'error']]);
      expect(mock.stats().byModel[HEALTHY]).toBeUndefined();
    });
  }

  it('a stall is a TimeoutError, and the stalled upstream stream is closed', async () => {
    mock.script(FLAKY, [{ type: 'stall', afterChunks: 3 }]);
    const { error } = await readStream(gateway(), ask('smart'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe(ErrorCode.TIMEOUT);
    await vi.waitFor(() => expect(mock.stats().streamsAborted).toBe(1));
  });
});

describe('with at least one healthy deployment, every call succeeds', () => {
  const rules: FaultRule[] = [
    { fault: { type: 'status', status: 429, retryAfterMs: 5 }, rate: 0.12 },
    { fault: { type: 'status', status: 500 }, rate: 0.12 },
    { fault: { type: 'status', status: 503 }, rate: 0.12 },
    { fault: { type: 'reset' }, rate: 0.1 },
    { fault: { type: 'hang' }, rate: 0.05 },
    { fault: { type: 'stall', afterChunks: 1 }, rate: 0.05 },
    { fault: { type: 'malformed-sse' }, rate: 0.05 },
    { fault: { type: 'truncate', afterChunks: 1 }, rate: 0.05 },
  ];

  it('whole and streamed, 40 calls each, under a mix of faults on the first deployment', async () => {
    mock.configure(FLAKY, { faults: rules });
    const g = gateway({ firstByteTimeoutMs: 100, stallTimeoutMs: 60 });
    const whole = Array.from({ length: 40 }, () => g.complete(ask('smart')).then((r) => r.choices[0]?.message.content));
    const streamed = Array.from({ length: 40 }, () =>
      readStream(g, ask('smart')).then((s) => {
        if (s.error) throw s.error;
        return s.text;
      }),
    );
    const texts = await Promise.all([...whole, ...streamed]);
    expect(texts).toHaveLength(80);
    for (const t of texts) expect([HEALTHY_TEXT, 'flaky deployment answering with many words here']).toContain(t);
    expect(Object.values(mock.stats().faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  });
});

describe('deadlines', () => {
  it('no call waits past its deadline: a hang ends with the deadline TimeoutError, the upstream closed', async () => {
    mock.script(FLAKY, [{ type: 'hang' }]);
    const g = gateway({ firstByteTimeoutMs: undefined }, [FLAKY]);
    const err = await g.complete(ask('smart'), { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/deadline/);
    await vi.waitFor(() => expect(mock.stats().requestsAborted).toBe(1));
  });

  it('a streamed call whose reader dawdles past the deadline ends with the TimeoutError, not a short answer', async () => {
    mock.configure(FLAKY, { tokensPerSecond: 40 });
    const g = gateway({ stallTimeoutMs: undefined }, [FLAKY]);
    const stream = g.stream(ask('smart'), { timeoutMs: 150 });
    const it = stream[Symbol.asyncIterator]();
    let text = '';
    for (;;) {
      const step = await it.next(); // role chunk, then the first word
      text += step.done ? '' : (step.value.choices[0]?.delta.content ?? '');
      if (text !== '') break;
    }
    await new Promise((r) => setTimeout(r, 300)); // the deadline passes while nobody reads
    const err = await (async () => {
      for (;;) {
        const step = await it.next();
        if (step.done) return undefined;
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    await expect(stream.response).rejects.toBeInstanceOf(TimeoutError);
  });

  it('does not start a retry whose backoff would end past the deadline', async () => {
    mock.script(FLAKY, [{ type: 'status', status: 429, retryAfter: 5 }, 'ok']);
    const g = gateway({ retry: { maxRetries: 3, maxRetryAfterMs: 30_000 } }, [FLAKY]);
    const err = await g.complete(ask('smart'), { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError); // the real error, at once: not a timeout after waiting
    expect(mock.stats().byModel[FLAKY]).toBe(1);
  });

  it('a retry backoff is cut by the deadline', async () => {
    mock.script(FLAKY, [{ type: 'status', status: 503 }, 'ok']);
    const g = gateway({ retry: { maxRetries: 1, baseDelayMs: 60_000, maxDelayMs: 60_000 }, random: () => 0.999 }, [
      FLAKY,
    ]);
    // The backoff (up to 60 s) does not fit a 300 ms deadline: no retry.
    const err = await g.complete(ask('smart'), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe(ErrorCode.UPSTREAM_SERVER);
    expect(mock.stats().byModel[FLAKY]).toBe(1);
  });
});

describe('models without an alias', () => {
  it('route among every provider that serves the model, in provider order, with fallback', async () => {
    mock.script(FLAKY, [{ type: 'status', status: 503 }]);
    const g = gateway({ models: {} });
    const res = await g.complete(ask(FLAKY));
    expect(res.flowgate.router?.attempts.map((a) => [a.deployment, a.outcome])).toEqual([
      ['a/flaky', 'error'],
      ['b/flaky', 'ok'],
    ]);
  });

  it('fail with NO_PROVIDER when nobody serves the model', async () => {
    const providers = [openai({ id: 'a', baseURL: `${mock.url}/v1`, models: ['only-this'] })];
    const g = createGateway({ providers, plugins: [router()] });
    gateways.push(g);
    await expect(g.complete(ask('other'))).rejects.toBeInstanceOf(NoProviderError);
  });
});
