import { connect } from 'node:net';
import { type CallMetadata, createGateway, type Plugin } from '@flowgate/core';
import type { MockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceSummary } from './admin.js';
import { createServer } from './server.js';
import { client, GATEWAY_KEY, startTestServer, startUpstream, UPSTREAM_KEY, until } from './server.test-util.js';
import type { RunningServer } from './start.js';

let mock: MockProvider;
const servers: { close(): Promise<void> }[] = [];
const agent = new Agent({ keepAliveTimeout: 10_000 });

beforeAll(async () => {
  mock = await startUpstream();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  mock.reset();
});
afterAll(async () => {
  await agent.close();
  await mock.close();
});

async function start(extra: Parameters<typeof startTestServer>[1] = {}): Promise<RunningServer> {
  const s = await startTestServer(mock, extra);
  servers.push(s);
  return s;
}

const chatBody = (model = 'gpt-4o-mini', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(`${url}/v1/chat/completions`, {
    dispatcher: agent,
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function get(url: string) {
  const res = await request(url, { dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A plugin that records the metadata each call carries. */
function metadataRecorder(seen: CallMetadata[]): Plugin {
  return {
    name: 'recorder',
    setup(host) {
      host.onRequest((ctx) => {
        seen.push({ ...ctx.metadata });
      });
    },
  };
}

describe('auth and tenants', () => {
  it('maps each key to its tenant and passes the end user along', async () => {
    const seen: CallMetadata[] = [];
    const s = await start({
      keys: [
        { keyEnv: 'TEST_GATEWAY_KEY', tenant: 'alpha' },
        { key: 'sk-beta-key', tenant: 'beta' },
      ],
      plugins: [metadataRecorder(seen)],
    });
    expect((await post(s.url, chatBody())).status).toBe(200);
    expect(
      (await post(s.url, chatBody('gpt-4o-mini', { user: 'u-42' }), { authorization: 'Bearer sk-beta-key' })).status,
    ).toBe(200);
    expect((await post(s.url, chatBody(), { authorization: 'Bearer sk-gamma' })).status).toBe(401);
    expect((await post(s.url, chatBody(), { authorization: 'Basic abc' })).status).toBe(401);
    expect(seen).toEqual([{ tenant: 'alpha' }, { tenant: 'beta', user: 'u-42' }]);
  });

  it('an open gateway (no keys) needs no key', async () => {
    const seen: CallMetadata[] = [];
    const s = await start({ keys: [], plugins: [metadataRecorder(seen)] });
    expect((await post(s.url, chatBody(), { authorization: '' })).status).toBe(200);
    expect(seen).toEqual([{}]);
  });
});

describe('routes', () => {
  it('health, readiness, 404, 405, and /metrics off without telemetry', async () => {
    const s = await start();
    expect((await get(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await get(`${s.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const missing = await get(`${s.url}/v2/anything`);
    expect(missing.status).toBe(404);
    expect(missing.json().error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' });
    const wrongMethod = await get(`${s.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect((await get(`${s.url}/metrics`)).status).toBe(404);
    expect((await get(`${s.url}/v1/models/unknown-model`)).json().error.code).toBe('model_not_found');
  });

  it('/readyz waits for the plugins start-up work', async () => {
    let finish!: () => void;
    const warmUp = new Promise<void>((r) => {
      finish = r;
    });
    const gateway = createGateway({
      providers: [openai({ baseURL: `${mock.url}/v1`, apiKey: UPSTREAM_KEY })],
      plugins: [{ name: 'slow-start', setup: () => warmUp }],
    });
    const s = createServer({ gateway, onClose: () => gateway.close() });
    servers.push(s);
    const url = await s.listen(0);
    const starting = await get(`${url}/readyz`);
    expect(starting.status).toBe(503);
    expect(starting.json()).toEqual({ status: 'starting' });
    finish();
    await gateway.ready();
    await new Promise((r) => setImmediate(r));
    expect((await get(`${url}/readyz`)).status).toBe(200);
  });
});

describe('limits', () => {
  it('413 for a body over maxBodyBytes; the connection stays usable', async () => {
    const s = await start({ limits: { maxBodyBytes: 1024 } });
    const big = await post(s.url, chatBody('gpt-4o-mini', { pad: 'x'.repeat(4000) }));
    expect(big.status).toBe(413);
    expect(big.json().error).toMatchObject({ code: 'request_too_large', type: 'invalid_request_error' });
    expect(big.headers.connection).not.toBe('close');
    expect((await post(s.url, chatBody())).status).toBe(200);
  });

  it('413 at once, closing the connection, for a body announced far over the limit', async () => {
    const s = await start({ limits: { maxBodyBytes: 1024 } });
    const { port } = new URL(s.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${GATEWAY_KEY}\r\nContent-Length: 100000000\r\n\r\n`,
        ),
      );
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
      });
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 413/);
    expect(raw.toLowerCase()).toContain('connection: close');
  });

  it('504 when a call passes requestTimeoutMs', async () => {
    const s = await start({ limits: { requestTimeoutMs: 100 } });
    mock.script('gpt-4o-mini', [{ type: 'hang' }]);
    const res = await post(s.url, chatBody());
    expect(res.status).toBe(504);
    expect(res.json().error).toMatchObject({ type: 'timeout_error', code: 'timeout' });
    await until(() => mock.stats().requestsAborted === 1, 'the upstream call was cut');
  });
});

describe('aliases without the router plugin', () => {
  it('fall back to the next deployment on a retryable failure, not on a client error', async () => {
    const s = await start({
      aliases: {
        smart: [
          { provider: 'mock', model: 'backup', priority: 2 },
          { provider: 'mock', model: 'primary', priority: 1 },
        ],
      },
    });
    mock.script('primary', [{ type: 'status', status: 503 }]);
    const res = await client(s).chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.model).toBe('backup');
    expect(mock.stats().byModel).toEqual({ primary: 1, backup: 1 });

    mock.script('primary', [{ type: 'status', status: 400, message: 'bad parameter' }]);
    const refused = await post(s.url, chatBody('smart'));
    expect(refused.status).toBe(400);
    expect(refused.json().error.code).toBe('upstream_rejected');
    expect(mock.stats().byModel).toEqual({ primary: 2, backup: 1 });
  });
});

describe('/dashboard', () => {
  it('serves the self-contained dashboard page, which polls /admin/performance', async () => {
    const s = await start({});
    const page = await get(`${s.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('/admin/performance');
    expect(page.text).toMatch(/data-chart="latency"/);
    expect(page.text).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // nothing from a CDN
    const posted = await request(`${s.url}/dashboard`, { dispatcher: agent, method: 'POST', body: '' });
    await posted.body.text();
    expect(posted.statusCode).toBe(405);
  });
});

describe('/admin/performance', () => {
  it('summarizes stats, requests and what the plugins expose', async () => {
    const plugin = (name: string, summary?: () => Record<string, unknown>): Plugin =>
      Object.assign({ name, setup() {} }, summary ? { adminSummary: summary } : {});
    const s = await start({
      plugins: [
        plugin('cache', () => ({ hitRate: 0.25, hits: 1, misses: 3 })),
        plugin('router', () => ({
          breakers: { 'mock/gpt-4o': 'open', 'mock/gpt-4o-mini': { state: 'closed' }, 'other/x': 'open' },
        })),
        plugin('token-optimizer', () => ({ costTodayUsd: 1.5 })),
        plugin('profiler', () => {
          throw new Error('summary failed');
        }),
        plugin('pool'),
      ],
    });
    expect((await post(s.url, chatBody())).status).toBe(200);
    expect((await post(s.url, chatBody('gpt-4o-mini', { stream: true }))).status).toBe(200);
    expect((await post(s.url, chatBody('gpt-4o-mini', { temperature: 9 }))).status).toBe(400);
    mock.script('gpt-4o-mini', [{ type: 'status', status: 500 }]);
    expect((await post(s.url, chatBody())).status).toBe(502);

    const page = (await get(`${s.url}/admin/performance`)).json() as PerformanceSummary;
    expect(page.requests).toMatchObject({
      today: 4,
      total: 4,
      inFlight: 0,
      shed: 0,
      todayByStatus: { '2xx': 2, '4xx': 1, '5xx': 1 },
    });
    // The invalid request was refused before it became a call (no stats); the upstream 500 is an error.
    expect(page.latency.chat).toMatchObject({ count: 3, errors: 1 });
    expect(page.latency.chat?.timeToFirstChunkMs.count).toBe(1);
    expect(page.errorRate).toBeCloseTo(1 / 3);
    expect(page.cacheHitRate).toBe(0.25);
    expect(page.costTodayUsd).toBe(1.5);
    expect(page.semanticCacheHitRate).toBeNull();
    expect(page.providers.mock).toMatchObject({
      system: 'openai',
      requests: 3,
      errors: 1,
      breakers: { 'mock/gpt-4o': 'open', 'mock/gpt-4o-mini': 'closed' },
      health: 'degraded',
    });
    expect(page.plugins).toMatchObject({
      cache: { hitRate: 0.25, hits: 1, misses: 3 },
      profiler: { error: 'summary failed' },
      pool: {},
      'semantic-cache': null,
    });
  });

  it("reads breaker states from the router plugin's deployments() when it has no summary", async () => {
    const router = {
      name: 'router',
      setup() {},
      deployments: () => [
        { key: 'mock/a', provider: 'mock', model: 'a', breaker: 'open' },
        { key: 'mock/b', provider: 'mock', model: 'b', breaker: 'open' },
      ],
    };
    const s = await start({ plugins: [router] });
    const page = (await get(`${s.url}/admin/performance`)).json() as PerformanceSummary;
    expect(page.providers.mock).toMatchObject({ breakers: { 'mock/a': 'open', 'mock/b': 'open' }, health: 'down' });
    expect(page.plugins.router).toEqual({});
  });

  it("falls back to a plugin's synchronous stats() (the cache plugin's hit rate)", async () => {
    const cache = { name: 'cache', setup() {}, stats: () => ({ hits: 3, misses: 1, hitRate: 0.75 }) };
    const s = await start({ plugins: [cache] });
    const page = (await get(`${s.url}/admin/performance`)).json() as PerformanceSummary;
    expect(page.cacheHitRate).toBe(0.75);
    expect(page.plugins.cache).toEqual({ hits: 3, misses: 1, hitRate: 0.75 });
  });

  it('shows null for plugins that are not installed', async () => {
    const s = await start();
    const page = (await get(`${s.url}/admin/performance`)).json() as PerformanceSummary;
    expect(page.plugins).toEqual({
      router: null,
      cache: null,
      pool: null,
      'token-optimizer': null,
      profiler: null,
      'semantic-cache': null,
    });
    expect(page.cacheHitRate).toBeNull();
    expect(page.providers.mock).toMatchObject({ breakers: null, health: 'healthy', requests: 0 });
  });
});

describe('graceful drain', () => {
  it('finishes the call in flight, refuses new connections, then closes the gateway', async () => {
    mock.configure('slow', { latencyMs: 300 });
    const events: string[] = [];
    const gateway = createGateway({
      providers: [openai({ baseURL: `${mock.url}/v1`, apiKey: UPSTREAM_KEY })],
      plugins: [
        {
          name: 'witness',
          setup(host) {
            host.onResponse(() => {
              events.push('call answered');
            });
          },
        },
      ],
    });
    const s = createServer({
      gateway,
      onClose: async () => {
        events.push(`onClose with ${s.inFlight()} in flight`);
        await gateway.close();
      },
    });
    servers.push(s);
    const url = await s.listen(0);
    const pending = request(`${url}/v1/chat/completions`, {
      dispatcher: agent,
      method: 'POST',
      body: chatBody('slow'),
    });
    await until(() => s.inFlight() === 1, 'the slow call is in flight');

    const closing = s.close();
    expect(s.draining).toBe(true);
    // No new connections while draining.
    const fresh = new Agent();
    await expect(request(`${url}/healthz`, { dispatcher: fresh })).rejects.toThrow();
    await fresh.close();

    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(
      ((await res.body.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
    ).toBe('Mock answer to: hello there');
    await closing;
    expect(events).toEqual(['call answered', 'onClose with 0 in flight']);
    expect(mock.stats().requestsAborted).toBe(0);
  });

  it('cuts calls still running when the grace period is over', async () => {
    mock.script('gpt-4o-mini', [{ type: 'hang' }]);
    const s = await start({ limits: { drainTimeoutMs: 50 } });
    const pending = post(s.url, chatBody()).catch((e: unknown) => e);
    await until(() => s.inFlight() === 1, 'the hanging call is in flight');
    await s.close();
    expect(await pending).toBeInstanceOf(Error);
    await until(() => mock.stats().requestsAborted === 1, 'the upstream call was aborted');
    expect(s.inFlight()).toBe(0);
  });
});
