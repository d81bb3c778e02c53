/**
 * Keep-alive from both ends: the server closing idle connections (announced or not), a connection cut just as a
 * POST arrives on it (never replayed), and the pool closing its own idle connections.
 */
import { ConnectionError, createGateway, type Gateway, StreamTruncatedError } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { anthropic, openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { chat, events, MODEL, until } from './helpers.test-util.js';
import { type PoolOptions, pool } from './index.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function setup(mockOptions: Parameters<typeof startMockProvider>[0] = {}, options: PoolOptions = {}) {
  const mock = await startMockProvider(mockOptions);
  closers.push(() => mock.close());
  const t = telemetry();
  const plugin = pool(options);
  const gateway: Gateway = createGateway({
    providers: [
      anthropic({ id: 'anthropic', apiKey: 'k', baseURL: mock.url }),
      openai({ id: 'openai', apiKey: 'k', baseURL: `${mock.url}/v1` }),
    ],
    plugins: [plugin],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  closers.push(() => gateway.close());
  return { mock, t, plugin, gateway };
}

const connected = (plugin: ReturnType<typeof pool>, mock: MockProvider) => plugin.stats()[mock.url]?.connected ?? 0;

describe('the server closes keep-alive connections', () => {
  it('opens a new connection after the server closed the idle one, and replays nothing', async () => {
    const { mock, t, plugin, gateway } = await setup();
    await gateway.complete(chat('before'));
    expect(mock.stats().activeConnections).toBe(1);

    // The server ends its idle keep-alive connections (as at the end of its keep-alive timeout).
    mock.server.closeIdleConnections();
    await until(() => connected(plugin, mock) === 0, 'the pool saw the connection close');

    const whole = await gateway.complete(chat('after'));
    expect(whole.choices[0]!.message.content).toBe('Mock answer to: after');
    const stream = gateway.stream(chat('streamed after', 'claude-haiku-4-5'));
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Mock answer to: streamed after');

    expect(mock.stats().requests).toBe(3); // each call reached the server exactly once
    expect(mock.stats().connections).toBe(2);
    const attempts = (await t.spans()).filter((s) => s.name.startsWith('attempt'));
    expect(attempts.map((a) => events(a, 'flowgate.pool.connection_opened').length)).toEqual([1, 1, 0]);
  });

  it('never replays a POST whose connection is cut after it was sent', async () => {
    const { mock, plugin, gateway } = await setup();
    await gateway.complete(chat('opens the connection'));
    // The next request on that warm connection is read by the server, which then drops the socket:
    // the race of a server closing a keep-alive connection just as a request arrives on it.
    mock.script(MODEL, [{ type: 'reset' }]);
    const err = await gateway.complete(chat('cut off')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(mock.stats().requests).toBe(2); // a replay would be a third request (and would succeed)
    expect(mock.stats().faultsInjected).toEqual({ reset: 1 });

    // A stream cut the same way is not replayed either.
    mock.script('claude-haiku-4-5', [{ type: 'reset' }]);
    const stream = gateway.stream(chat('cut off stream', 'claude-haiku-4-5'));
    const streamErr = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(ConnectionError);
    expect(mock.stats().requests).toBe(3);

    // A stream cut in the middle fails as truncated; its request is not sent again.
    mock.script(MODEL, [{ type: 'stall', afterChunks: 2 }]);
    const stalled = gateway.stream(chat('stalls'), { timeoutMs: 30_000 });
    const it = stalled[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    await until(() => mock.stats().chunksSent >= 2, 'two chunks sent');
    mock.server.closeAllConnections();
    const midErr = await (async () => {
      for (;;) if ((await it.next()).done) return undefined;
    })().catch((e: unknown) => e);
    expect(midErr).toBeInstanceOf(StreamTruncatedError);
    expect(mock.stats().requests).toBe(4);

    // The pool recovers: the next call gets a new connection.
    const res = await gateway.complete(chat('recovered'));
    expect(res.choices[0]!.message.content).toBe('Mock answer to: recovered');
    expect(mock.stats().requests).toBe(5);
    expect(plugin.stats()[mock.url]!.connected).toBe(1);
  });

  it('follows a server that announces a keep-alive too short to reuse the connection', async () => {
    // Node sends `Keep-Alive: timeout=0`; undici then closes each connection after its answer.
    const { mock, gateway } = await setup({ keepAliveTimeoutMs: 1 });
    for (let i = 0; i < 3; i++) await gateway.complete(chat(`short ${i}`));
    expect(mock.stats().requests).toBe(3);
    expect(mock.stats().connections).toBe(3);
  });
});

describe('idle connections', () => {
  it('closes a connection once it has been idle longer than its keep-alive', async () => {
    // The mock announces 65 s; keepAliveMaxTimeout caps what a server may ask for.
    const { mock, plugin, gateway } = await setup({}, { keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });
    await gateway.complete(chat('then idle'));
    expect(mock.stats().activeConnections).toBe(1);
    await until(() => mock.stats().activeConnections === 0, 'the pool closed the idle connection');
    expect(connected(plugin, mock)).toBe(0);
    await gateway.complete(chat('again'));
    expect(mock.stats().connections).toBe(2);
  });
});
