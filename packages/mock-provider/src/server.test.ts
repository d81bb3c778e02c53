import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chat, json, messages, parseSse, post, postJson, rawPost, readUntil, waitFor } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';
import type { MockProvider } from './types.js';

const CHAT = '/v1/chat/completions';
const LONG = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({
    models: {
      slow: { text: LONG, tokensPerSecond: 10 },
      ttft: { ttftMs: 60_000 },
      late: { latencyMs: 60_000 },
      jitter: { latencyMs: { min: 1, max: 5 } },
    },
  });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

describe('server', () => {
  it('listens on 127.0.0.1 with a url without trailing slash', () => {
    expect(mock.url).toBe(`http://127.0.0.1:${mock.port}`);
    expect(mock.port).toBeGreaterThan(0);
    expect(mock.server.listening).toBe(true);
  });

  it('answers 404 JSON for unknown paths and methods', async () => {
    const res = await fetch(`${mock.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect((await json(res)).error.message).toContain('/v2/nothing');
    expect((await fetch(`${mock.url}${CHAT}`)).status).toBe(404);
    expect(mock.stats().byPath).toEqual({ '/v2/nothing': 1, [CHAT]: 1 });
  });

  it('merges configure() over a model, or replaces it', async () => {
    mock.configure('conf', { text: 'first text' });
    mock.configure('conf', { cachedTokens: 2 });
    let body = await postJson(mock.url, CHAT, { ...chat('hi'), model: 'conf' });
    expect(body.choices[0].message.content).toBe('first text');
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(2);
    mock.configure('conf', { text: 'second' }, { replace: true });
    body = await postJson(mock.url, CHAT, { ...chat('hi'), model: 'conf' });
    expect(body.choices[0].message.content).toBe('second');
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it('applies "*" configuration to every model without its own text', async () => {
    const m = await startMockProvider();
    try {
      m.configure('*', { text: 'default for all' });
      const body = await postJson(m.url, CHAT, { ...chat('hi'), model: 'anything' });
      expect(body.choices[0].message.content).toBe('default for all');
    } finally {
      await m.close();
    }
  });

  it('answers after a latency range', async () => {
    const res = await post(mock.url, CHAT, { ...chat('hi'), model: 'jitter' });
    expect(res.status).toBe(200);
  });
});

describe('api key', () => {
  let secured: MockProvider;
  beforeAll(async () => {
    secured = await startMockProvider({ apiKey: 'sk-test' });
  });
  afterAll(() => secured.close());

  it('requires Bearer on OpenAI routes', async () => {
    const none = await post(secured.url, CHAT, chat('hi'));
    expect(none.status).toBe(401);
    expect((await json(none)).error).toMatchObject({ code: 'invalid_api_key' });
    const wrong = await post(secured.url, CHAT, chat('hi'), { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const xKey = await post(secured.url, CHAT, chat('hi'), { headers: { 'x-api-key': 'sk-test' } });
    expect(xKey.status).toBe(401);
    const ok = await post(secured.url, CHAT, chat('hi'), { headers: { authorization: 'Bearer sk-test' } });
    expect(ok.status).toBe(200);
    const emb = await post(secured.url, '/v1/embeddings', { model: 'e', input: 'x' });
    expect(emb.status).toBe(401);
  });

  it('requires x-api-key on Anthropic routes', async () => {
    const bearer = await post(secured.url, '/v1/messages', messages('hi'), {
      headers: { authorization: 'Bearer sk-test' },
    });
    expect(bearer.status).toBe(401);
    expect(await json(bearer)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const ok = await post(secured.url, '/v1/messages', messages('hi'), { headers: { 'x-api-key': 'sk-test' } });
    expect(ok.status).toBe(200);
  });

  it('accepts either on the models list', async () => {
    expect((await fetch(`${secured.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${secured.url}/v1/models`, { headers: { 'x-api-key': 'sk-test' } })).status).toBe(200);
    expect((await fetch(`${secured.url}/v1/models`, { headers: { authorization: 'Bearer sk-test' } })).status).toBe(
      200,
    );
  });
});

describe('stats', () => {
  it('count requests, paths, models, streams and chunks', async () => {
    await post(mock.url, CHAT, chat('a b'));
    await (await post(mock.url, CHAT, chat('a b', { stream: true }))).text(); // 1 role + 5 words + finish + [DONE]
    await (await post(mock.url, '/v1/messages', messages('a', { stream: true }))).text(); // 3 + 4 words + 3
    await post(mock.url, '/v1/embeddings', { model: 'emb', input: 'x' });
    const stats = mock.stats();
    expect(stats.requests).toBe(4);
    expect(stats.byPath).toEqual({ [CHAT]: 2, '/v1/messages': 1, '/v1/embeddings': 1 });
    expect(stats.byModel).toEqual({ 'gpt-mock': 2, 'claude-mock': 1, emb: 1 });
    expect(stats.streamsStarted).toBe(2);
    expect(stats.streamsCompleted).toBe(2);
    expect(stats.streamsAborted).toBe(0);
    expect(stats.chunksSent).toBe(8 + 10);
    expect(stats.faultsInjected).toEqual({});
    expect(stats.lastRequest).toMatchObject({
      method: 'POST',
      path: '/v1/embeddings',
      body: { model: 'emb', input: 'x' },
    });
  });

  it('returns a fresh snapshot each time', async () => {
    const before = mock.stats();
    before.byPath.x = 99;
    before.requests = 99;
    await post(mock.url, CHAT, chat('a'));
    const after = mock.stats();
    expect(after.requests).toBe(1);
    expect(after.byPath.x).toBeUndefined();
    expect(before.requests).toBe(99);
  });

  it('count TCP connections, reused by keep-alive', async () => {
    const m = await startMockProvider();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest(`${m.url}/v1/models`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await Promise.all([get(), get(), get()])).toEqual([200, 200, 200]);
      expect(m.stats().connections).toBe(1);
      for (let i = 0; i < 2; i++) await rawPost(m.url, CHAT, chat('a')); // agent: false -> a new connection each
      expect(m.stats().connections).toBe(3);
      expect(m.stats().requests).toBe(5);
    } finally {
      agent.destroy();
      await m.close();
    }
  });
});

describe('streaming pace and aborts', () => {
  it('delivers the first chunk before the last is sent, and stops when the client aborts', async () => {
    const controller = new AbortController();
    const res = await post(
      mock.url,
      CHAT,
      { ...chat('hi', { stream: true }), model: 'slow' },
      { signal: controller.signal },
    );
    const text = await readUntil(res, (t) => t.includes('"content":"word0 "'));
    expect(parseSse(text).length).toBeGreaterThanOrEqual(2);
    const total = 1 + 40 + 1 + 1;
    expect(mock.stats().chunksSent).toBeLessThan(total);
    controller.abort();
    await waitFor(() => mock.stats().streamsAborted === 1);
    const atAbort = mock.stats();
    expect(atAbort.streamsCompleted).toBe(0);
    expect(atAbort.requestsAborted).toBe(1);
    await new Promise((r) => setTimeout(r, 150)); // a mock that kept producing would send more by now
    expect(mock.stats().chunksSent).toBe(atAbort.chunksSent);
    expect(atAbort.chunksSent).toBeLessThan(total);
  });

  it('sends headers and the role chunk before TTFT, content after', async () => {
    const controller = new AbortController();
    const res = await post(
      mock.url,
      CHAT,
      { ...chat('hi', { stream: true }), model: 'ttft' },
      { signal: controller.signal },
    );
    expect(res.status).toBe(200);
    const text = await readUntil(res, (t) => parseSse(t).length >= 1);
    expect(JSON.parse(parseSse(text)[0]!.data).choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(mock.stats().chunksSent).toBe(1);
    controller.abort();
    await waitFor(() => mock.stats().streamsAborted === 1);
    expect(mock.stats().chunksSent).toBe(1);
  });

  it('holds the response during latency, and counts a client that leaves meanwhile', async () => {
    const pending = post(mock.url, CHAT, { ...chat('hi'), model: 'late' }, { signal: AbortSignal.timeout(100) });
    await expect(pending).rejects.toThrow();
    await waitFor(() => mock.stats().requestsAborted === 1);
    expect(mock.stats().byModel.late).toBe(1);
  });
});

describe('close()', () => {
  it('ends hanging and stalled connections and stops listening', async () => {
    const m = await startMockProvider({ defaults: { script: [{ type: 'hang' }, { type: 'stall', afterChunks: 1 }] } });
    const hanging = post(m.url, CHAT, chat('hi')).then(
      () => 'answered',
      () => 'failed',
    );
    const stalled = await post(m.url, CHAT, chat('hi', { stream: true }));
    await readUntil(stalled, (t) => t.length > 0);
    await waitFor(() => m.stats().requests === 2);
    await m.close();
    expect(await hanging).toBe('failed');
    await expect(stalled.text()).rejects.toThrow();
    expect(m.server.listening).toBe(false);
    expect(m.stats().activeConnections).toBe(0);
    await expect(fetch(`${m.url}/v1/models`)).rejects.toThrow();
  });

  it('is idempotent', async () => {
    const m = await startMockProvider();
    await Promise.all([m.close(), m.close()]);
    await m.close();
    expect(m.server.listening).toBe(false);
  });
});

describe('http details', () => {
  it('keeps connections alive with the configured timeout', async () => {
    const m = await startMockProvider({ keepAliveTimeoutMs: 1234 });
    try {
      expect(m.server.keepAliveTimeout).toBe(1234);
      expect(m.server.headersTimeout).toBeGreaterThan(1234);
      const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest(`${m.url}/v1/models`, (res) => {
          res.resume();
          resolve(res.headers['keep-alive'] as string | undefined);
        });
        req.on('error', reject);
        req.end();
      });
      expect(keepAlive).toMatch(/timeout=1/);
    } finally {
      await m.close();
    }
  });
});
