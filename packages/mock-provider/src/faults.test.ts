import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chat, json, jsonEvents, messages, parseSse, post, rawPost, readUntil, waitFor } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';
import type { FaultRule, MockProvider } from './types.js';

const CHAT = '/v1/chat/completions';
const MESSAGES = '/v1/messages';
let mock: MockProvider;

beforeAll(async () => {
  mock = await startMockProvider({ models: { scripted: { script: ['ok', { type: 'status', status: 500 }] } } });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

describe('status faults', () => {
  it('answers 429 with Retry-After and retry-after-ms in OpenAI format, once', async () => {
    mock.script('gpt-mock', [{ type: 'status', status: 429, retryAfter: 2, retryAfterMs: 1500 }]);
    const res = await post(mock.url, CHAT, chat('hi'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('retry-after-ms')).toBe('1500');
    expect(await json(res)).toEqual({
      error: { message: expect.any(String), type: 'requests', param: null, code: 'rate_limit_exceeded' },
    });
    expect((await post(mock.url, CHAT, chat('hi'))).status).toBe(200);
    expect(mock.stats().faultsInjected).toEqual({ 'status:429': 1 });
  });

  it('answers 500, 502 and 503 as server errors, also to streamed requests', async () => {
    mock.script(
      'gpt-mock',
      [500, 502, 503].map((status) => ({ type: 'status', status })),
    );
    for (const status of [500, 502, 503]) {
      const res = await post(mock.url, CHAT, chat('hi', { stream: true }));
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await json(res)).error.type).toBe('server_error');
    }
    expect(mock.stats().faultsInjected).toEqual({ 'status:500': 1, 'status:502': 1, 'status:503': 1 });
    expect(mock.stats().streamsStarted).toBe(0);
  });

  it('answers in Anthropic format on /v1/messages', async () => {
    mock.script('claude-mock', [
      { type: 'status', status: 429, retryAfter: 1 },
      { type: 'status', status: 529 },
      { type: 'status', status: 500, message: 'boom' },
      { type: 'status', status: 401 },
    ]);
    const expected = [
      [429, 'rate_limit_error'],
      [529, 'overloaded_error'],
      [500, 'api_error'],
      [401, 'authentication_error'],
    ] as const;
    for (const [status, type] of expected) {
      const res = await post(mock.url, MESSAGES, messages('hi'));
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(body).toEqual({ type: 'error', error: { type, message: expect.any(String) } });
      if (status === 429) expect(res.headers.get('retry-after')).toBe('1');
      if (status === 500) expect(body.error.message).toBe('boom');
    }
  });

  it('passes a custom code such as context_length_exceeded', async () => {
    mock.script('gpt-mock', [{ type: 'status', status: 400, code: 'context_length_exceeded' }]);
    const res = await post(mock.url, CHAT, chat('hi'));
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
  });
});

describe('connection faults', () => {
  it('reset destroys the connection without a response', async () => {
    mock.script('gpt-mock', [{ type: 'reset' }, { type: 'reset' }]);
    await expect(post(mock.url, CHAT, chat('hi'))).rejects.toThrow();
    const raw = await rawPost(mock.url, CHAT, chat('hi'));
    expect(raw.status).toBeUndefined();
    expect(raw.error?.code).toBe('ECONNRESET');
    const stats = mock.stats();
    expect(stats.faultsInjected.reset).toBe(2);
    expect(stats.requestsAborted).toBe(0);
  });

  it('hang sends no byte; the client gives up and the mock counts the abort', async () => {
    mock.script('gpt-mock', [{ type: 'hang' }]);
    await expect(
      post(mock.url, CHAT, chat('hi', { stream: true }), { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    await waitFor(() => mock.stats().requestsAborted === 1);
    const stats = mock.stats();
    expect(stats.faultsInjected.hang).toBe(1);
    expect(stats.streamsStarted).toBe(0);
    expect(stats.chunksSent).toBe(0);
  });

  it('stall sends N events then nothing, keeping the socket open', async () => {
    mock.script('gpt-mock', [{ type: 'stall', afterChunks: 2 }]);
    const controller = new AbortController();
    const res = await post(mock.url, CHAT, chat('one two three four five', { stream: true }), {
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const text = await readUntil(res, (t) => parseSse(t).length >= 2);
    await new Promise((r) => setTimeout(r, 50)); // give a broken mock the chance to send more
    expect(parseSse(text)).toHaveLength(2);
    let stats = mock.stats();
    expect(stats.chunksSent).toBe(2);
    expect(stats.streamsCompleted).toBe(0);
    expect(stats.streamsAborted).toBe(0);
    controller.abort();
    await waitFor(() => mock.stats().streamsAborted === 1);
    stats = mock.stats();
    expect(stats.faultsInjected.stall).toBe(1);
    expect(stats.chunksSent).toBe(2);
  });
});

describe('body faults', () => {
  it('malformed-json: a whole 200 body that is not JSON', async () => {
    mock.script('gpt-mock', [{ type: 'malformed-json' }]);
    const res = await post(mock.url, CHAT, chat('hi'));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('malformed-json: a streamed data event that is not JSON', async () => {
    mock.script('gpt-mock', [{ type: 'malformed-json' }]);
    mock.script('claude-mock', [{ type: 'malformed-json' }]);
    for (const [path, body] of [
      [CHAT, chat('hi there', { stream: true })],
      [MESSAGES, messages('hi there', { stream: true })],
    ] as const) {
      const events = parseSse(await (await post(mock.url, path, body)).text());
      const bad = events.filter((e) => {
        try {
          JSON.parse(e.data);
          return false;
        } catch {
          return e.data !== '[DONE]';
        }
      });
      expect(bad).toHaveLength(1);
      expect(events.length).toBeGreaterThan(3);
    }
    expect(mock.stats().faultsInjected['malformed-json']).toBe(2);
  });

  it('malformed-sse: a 200 event stream that holds no events', async () => {
    mock.script('gpt-mock', [{ type: 'malformed-sse' }]);
    const res = await post(mock.url, CHAT, chat('hi', { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/^data:/m);
    expect(text).not.toContain('\n\n');
    expect(() => JSON.parse(text)).toThrow();
  });

  it('truncate: a stream that ends cleanly without its terminator', async () => {
    mock.script('gpt-mock', [{ type: 'truncate' }]);
    mock.script('claude-mock', [{ type: 'truncate', afterChunks: 4 }]);
    const openai = await (await post(mock.url, CHAT, chat('one two three four', { stream: true }))).text();
    const events = parseSse(openai);
    expect(events.length).toBeGreaterThan(0);
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(jsonEvents(openai).length).toBe(events.length); // what was sent is well-formed
    const anthropic = parseSse(await (await post(mock.url, MESSAGES, messages('one two', { stream: true }))).text());
    expect(anthropic.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
    ]);
    const stats = mock.stats();
    expect(stats.streamsStarted).toBe(2);
    expect(stats.streamsCompleted).toBe(0);
    expect(stats.streamsAborted).toBe(0);
    expect(stats.faultsInjected.truncate).toBe(2);
  });

  it('truncate: a whole body cut short of its content-length', async () => {
    mock.script('gpt-mock', [{ type: 'truncate' }]);
    const res = await post(mock.url, CHAT, chat('hi'));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });
});

describe('scripts', () => {
  const statuses = async (n: number, model = 'gpt-mock'): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(mock.url, CHAT, { ...chat('hi'), model })).status);
    return out;
  };

  it('are consumed one per request, in order, then no fault', async () => {
    mock.script('gpt-mock', ['ok', { type: 'status', status: 503 }, 'ok', { type: 'status', status: 429 }]);
    expect(await statuses(6)).toEqual([200, 503, 200, 429, 200, 200]);
  });

  it('are per model, with "*" shared by models without their own', async () => {
    mock.script('*', [
      { type: 'status', status: 502 },
      { type: 'status', status: 503 },
    ]);
    mock.script('own', [{ type: 'status', status: 429 }]);
    expect(await statuses(2, 'own')).toEqual([429, 502]);
    expect(await statuses(2, 'other')).toEqual([503, 200]);
  });

  it('from options are re-armed by reset()', async () => {
    expect(await statuses(3, 'scripted')).toEqual([200, 500, 200]);
    mock.reset();
    expect(await statuses(3, 'scripted')).toEqual([200, 500, 200]);
  });

  it('set through configure() replace the queue', async () => {
    mock.configure('gpt-mock', { script: [{ type: 'status', status: 504 }] });
    expect(await statuses(2)).toEqual([504, 200]);
    mock.configure('gpt-mock', {}, { replace: true });
  });
});

describe('rate faults', () => {
  const rules: FaultRule[] = [{ fault: { type: 'status', status: 503 }, rate: 0.5 }];
  const run = async (m: MockProvider, n = 24): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(m.url, CHAT, chat('hi'))).status);
    return out;
  };

  it('are reproducible for a seed, and differ for another seed', async () => {
    const a = await startMockProvider({ seed: 42, defaults: { faults: rules } });
    const b = await startMockProvider({ seed: 42, defaults: { faults: rules } });
    const c = await startMockProvider({ seed: 7, defaults: { faults: rules } });
    try {
      const seqA = await run(a);
      expect(seqA).toContain(200);
      expect(seqA).toContain(503);
      expect(await run(b)).toEqual(seqA);
      expect(await run(c)).not.toEqual(seqA);
      a.reset();
      expect(await run(a)).toEqual(seqA);
      expect(a.stats().faultsInjected['status:503']).toBe(seqA.filter((s) => s === 503).length);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('are checked in order: rate 0 never fires, rate 1 always does', async () => {
    const m = await startMockProvider({
      defaults: {
        faults: [
          { fault: { type: 'status', status: 500 }, rate: 0 },
          { fault: { type: 'status', status: 429 }, rate: 1 },
          { fault: { type: 'status', status: 502 }, rate: 1 },
        ],
      },
    });
    try {
      expect(await run(m, 5)).toEqual([429, 429, 429, 429, 429]);
    } finally {
      await m.close();
    }
  });

  it('give way to a script while it lasts', async () => {
    const m = await startMockProvider({ defaults: { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] } });
    try {
      m.script('gpt-mock', ['ok', { type: 'status', status: 429 }]);
      expect(await run(m, 3)).toEqual([200, 429, 503]);
    } finally {
      await m.close();
    }
  });
});
