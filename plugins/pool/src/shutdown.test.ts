/**
 * gateway.close(): in-flight requests finish, then every socket is closed; a request that never ends is cut
 * after drainTimeoutMs; the plugin lets go of the diagnostics channels and its gauges.
 */
import diagnostics from 'node:diagnostics_channel';
import { createGateway, type Gateway } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { chat, MODEL, openSockets, points, until } from './helpers.test-util.js';
import { type PoolOptions, pool } from './index.js';

let mock: MockProvider | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function setup(options: PoolOptions = {}) {
  mock = await startMockProvider({ defaults: { text: 'one two three four five six seven eight nine ten' } });
  const t = telemetry();
  const plugin = pool(options);
  const gateway: Gateway = createGateway({
    providers: [openai({ apiKey: 'k', baseURL: `${mock.url}/v1` })],
    plugins: [plugin],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  return { mock, t, plugin, gateway };
}

describe('close', () => {
  it('lets in-flight streams finish, then closes every socket', async () => {
    const before = openSockets();
    const { mock, gateway } = await setup();
    mock.configure(MODEL, { tokensPerSecond: 50 }); // ten words over ~200 ms: still streaming when close() starts
    await gateway.complete(chat('an idle pooled connection'));
    const streams = [
      gateway.stream(chat('first')),
      gateway.stream(chat('second', MODEL), { pool: { freshConnection: true } }),
    ];
    const readers = streams.map((s) => s[Symbol.asyncIterator]());
    for (const r of readers) await r.next(); // both streams are running

    let closed = false;
    const closing = gateway.close().then(() => {
      closed = true;
    });
    await expect(gateway.complete(chat('too late'))).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CLOSED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false); // close() waits for the streams
    const texts = await Promise.all(
      readers.map(async (r) => {
        let text = '';
        for (let step = await r.next(); !step.done; step = await r.next())
          text += step.value.choices[0]?.delta.content ?? '';
        return text;
      }),
    );
    expect(texts).toEqual([
      'one two three four five six seven eight nine ten',
      'one two three four five six seven eight nine ten',
    ]);
    await closing;
    expect(closed).toBe(true);
    expect(mock.stats().streamsCompleted).toBe(2);
    expect(mock.stats().streamsAborted).toBe(0);
    await until(() => mock.stats().activeConnections === 0, 'the server sees every connection closed');
    await until(() => openSockets() === before, 'no socket left in this process');
  });

  it('destroys the sockets of requests still running after drainTimeoutMs', async () => {
    const before = openSockets();
    const { mock, plugin, gateway } = await setup({ drainTimeoutMs: 50 });
    mock.script(MODEL, [{ type: 'hang' }]);
    const hanging = gateway.complete(chat('never answered'));
    hanging.catch(() => {});
    await until(() => plugin.stats()[mock.url]?.running === 1, 'the request is on the wire');
    await gateway.close();
    await expect(hanging).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONNECTION' });
    await until(() => mock.stats().activeConnections === 0, 'the server sees the connection closed');
    await until(() => openSockets() === before, 'no socket left in this process');
  });

  it('unsubscribes from the diagnostics channels and stops reporting gauges', async () => {
    const channel = diagnostics.channel('undici:client:connected');
    const { mock, t, plugin, gateway } = await setup();
    expect(channel.hasSubscribers).toBe(true);
    await gateway.complete(chat('one'));
    const open = async () => points(await t.metrics(), 'flowgate.pool.connections.open').map((p) => p.value);
    expect(await open()).toEqual([1]);
    await gateway.close();
    expect(channel.hasSubscribers).toBe(false);
    expect(plugin.stats()[mock.url]!.connected).toBe(0);
    // The callback is gone: the SDK repeats the last value it was given; a live callback would now observe 0.
    expect(await open()).toEqual([1]);
    expect(mock.stats().requests).toBe(1);
  });
});
