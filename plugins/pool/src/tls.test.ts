/**
 * Against the mock provider over HTTPS, with a self-signed certificate made for the run: connections and TLS
 * handshakes are counted on the server side.
 */
import { createGateway, type Gateway } from '@flowgate/core';
import { anthropic, openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { chat, events, type HttpsMock, openSockets, startHttpsMock, until } from './helpers.test-util.js';
import { pool } from './index.js';

let mocks: HttpsMock[] = [];
let gateways: Gateway[] = [];

afterEach(async () => {
  for (const g of gateways) await g.close();
  for (const m of mocks) await m.mock.close();
  gateways = [];
  mocks = [];
});

async function httpsMock() {
  const m = await startHttpsMock();
  mocks.push(m);
  return m;
}

function gatewayFor(m: HttpsMock, plugin: ReturnType<typeof pool>, t?: ReturnType<typeof telemetry>) {
  const gateway = createGateway({
    providers: [
      anthropic({ id: 'anthropic', apiKey: 'k', baseURL: m.mock.url }),
      openai({ id: 'openai', apiKey: 'k', baseURL: `${m.mock.url}/v1` }),
    ],
    plugins: [plugin],
    ...(t ? { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider } : {}),
  });
  gateways.push(gateway);
  return gateway;
}

describe('pooled TLS connections', () => {
  it('shares one TLS handshake across sequential calls of both providers, whole and streamed', async () => {
    const m = await httpsMock();
    const plugin = pool({ connect: { ca: m.cert.cert } });
    const gateway = gatewayFor(m, plugin);

    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await gateway.complete(chat(`call ${i}`, i % 2 === 0 ? 'gpt-4o-mini' : 'claude-haiku-4-5'));
      answers.push(res.choices[0]!.message.content ?? '');
    }
    for (const model of ['gpt-4o-mini', 'claude-haiku-4-5']) {
      const stream = gateway.stream(chat('streamed call', model));
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      answers.push(text);
    }

    expect(answers).toEqual([
      'Mock answer to: call 0',
      'Mock answer to: call 1',
      'Mock answer to: call 2',
      'Mock answer to: call 3',
      'Mock answer to: streamed call',
      'Mock answer to: streamed call',
    ]);
    expect(m.mock.stats().requests).toBe(6);
    expect(m.mock.stats().streamsCompleted).toBe(2);
    expect(m.handshakes()).toBe(1);
    expect(m.mock.stats().connections).toBe(1);
    const origin = m.mock.url;
    await until(() => plugin.stats()[origin]!.free === 1, 'the connection is free again');
    expect(plugin.stats()[origin]).toMatchObject({ origin, connected: 1, free: 1, running: 0, connects: 1 });
    expect(plugin.stats()[origin]!.connectP50Ms).toBeGreaterThan(0);
  });

  it('opens a new connection with a full handshake per call when the call asks for a fresh one', async () => {
    const m = await httpsMock();
    const plugin = pool({ connect: { ca: m.cert.cert } });
    const gateway = gatewayFor(m, plugin);
    await gateway.complete(chat('pooled'));
    for (let i = 0; i < 3; i++) await gateway.complete(chat('fresh'), { pool: { freshConnection: true } });
    const stream = gateway.stream(chat('fresh stream', 'claude-haiku-4-5'), { pool: { freshConnection: true } });
    for await (const _ of stream);
    await gateway.complete(chat('pooled again'));

    expect(m.handshakes()).toBe(5);
    expect(m.resumed()).toBe(0); // fresh connections never resume a TLS session
    expect(m.mock.stats().connections).toBe(5);
    // Each fresh connection is closed once its answer (or stream) is read; the pooled one stays.
    await until(() => m.mock.stats().activeConnections === 1, 'fresh connections closed');
    expect(plugin.stats()[m.mock.url]).toMatchObject({ connected: 1, freshConnections: 4, connects: 5 });
  });

  it('warms up connections before the first call, which then pays no handshake', async () => {
    const m = await httpsMock();
    const plugin = pool({ connect: { ca: m.cert.cert }, warmUp: { connections: 3 } });
    const t = telemetry();
    const gateway = gatewayFor(m, plugin, t);
    await gateway.ready();

    const report = await plugin.warmUpReport();
    expect(report.origins).toEqual([
      { origin: m.mock.url, requested: 3, opened: 3, failed: 0, open: 3, protocol: 'h1', errors: [] },
    ]);
    expect(m.handshakes()).toBe(3);
    expect(m.mock.stats().activeConnections).toBe(3);

    await Promise.all([1, 2, 3].map((i) => gateway.complete(chat(`warm ${i}`))));
    expect(m.handshakes()).toBe(3);
    expect(m.mock.stats().connections).toBe(3);
    const spans = await t.spans();
    const attempts = spans.filter((s) => s.name.startsWith('attempt'));
    expect(attempts).toHaveLength(3);
    for (const a of attempts) expect(events(a, 'flowgate.pool.connection_opened')).toHaveLength(0);

    const metrics = await t.metrics();
    const connects = metrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === 'flowgate.pool.connects');
    expect(connects?.dataPoints).toEqual([
      expect.objectContaining({
        value: 3,
        attributes: {
          'flowgate.pool.origin': m.mock.url,
          'flowgate.pool.connect.reason': 'warm_up',
          'flowgate.pool.connect.outcome': 'ok',
        },
      }),
    ]);
  });

  it('reports a warm-up that cannot connect, and the gateway still starts', async () => {
    const m = await httpsMock();
    // No `ca`: the self-signed certificate is refused, so every warm-up connection fails.
    const plugin = pool({ warmUp: { connections: 2 } });
    const gateway = gatewayFor(m, plugin);
    await gateway.ready();
    const report = await plugin.warmUpReport();
    expect(report.origins[0]).toMatchObject({ origin: m.mock.url, requested: 2, opened: 0, open: 0 });
    expect(report.origins[0]!.failed).toBeGreaterThan(0);
    expect(report.origins[0]!.errors.join(' ')).toMatch(/certificate/i);
    expect(plugin.stats()[m.mock.url]!.connectErrors).toBeGreaterThan(0);
  });

  it('adds a span event to the attempt that had to open a connection, and to no other', async () => {
    const m = await httpsMock();
    const t = telemetry();
    const gateway = gatewayFor(m, pool({ connect: { ca: m.cert.cert } }), t);
    await gateway.complete(chat('first'));
    await gateway.complete(chat('second'));
    const spans = await t.spans();
    const attempts = spans.filter((s) => s.name.startsWith('attempt'));
    expect(attempts).toHaveLength(2);
    const [first, second] = attempts;
    const opened = events(first, 'flowgate.pool.connection_opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.attributes).toMatchObject({
      'flowgate.pool.origin': m.mock.url,
      'flowgate.pool.connect.reason': 'demand',
      'network.protocol.version': '1.1',
      'tls.resumed': false,
    });
    expect(opened[0]!.attributes!['flowgate.pool.connect.duration_ms']).toBeGreaterThan(0);
    expect(events(second, 'flowgate.pool.connection_opened')).toHaveLength(0);
  });

  it('leaves no socket open after gateway.close()', async () => {
    const m = await httpsMock();
    const before = openSockets();
    const gateway = gatewayFor(m, pool({ connect: { ca: m.cert.cert }, warmUp: { connections: 2 } }));
    await gateway.ready();
    await Promise.all([gateway.complete(chat('a')), gateway.complete(chat('b'))]);
    expect(m.mock.stats().activeConnections).toBe(2);
    expect(openSockets()).toBeGreaterThan(before);
    await gateway.close();
    await until(() => m.mock.stats().activeConnections === 0, 'the server sees every connection closed');
    await until(() => openSockets() === before, 'no socket left in this process');
  });
});
