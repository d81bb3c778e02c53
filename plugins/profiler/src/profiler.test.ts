// @vitest-environment node

import { getHeapStatistics } from 'node:v8';
import { createGateway, type Gateway, type Plugin, type PluginHost } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { forceGc, until } from './gc.test-util.js';
import { formatSnapshot, type ProfilerOptions, profiler } from './index.js';

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

const provider = () => openai({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' });
function install(plugin: Plugin): Gateway {
  const gateway = createGateway({ providers: [provider()], plugins: [plugin] });
  gateways.push(gateway);
  return gateway;
}

describe('profiler() options', () => {
  it.each<[string, ProfilerOptions]>([
    ['sampleRate above 1', { sampleRate: 1.5 }],
    ['sampleRate not a number', { sampleRate: '0.1' as unknown as number }],
    ['fractional eventLoopResolutionMs', { eventLoopResolutionMs: 0.5 }],
    ['gcWindowMs under a second', { gcWindowMs: 10 }],
    ['an unknown preset', { preset: 'speed' as 'latency' }],
    ['an empty outputDir', { outputDir: '' }],
    ['leak.windows under 2', { leak: { windows: 1 } }],
    ['leak.windowMs past the timer range', { leak: { windowMs: 2 ** 31 } }],
    ['leak.onLeak not a function', { leak: { onLeak: 'log' as unknown as () => void } }],
    ['leak neither options nor false', { leak: true as unknown as false }],
  ])('rejects %s with a ConfigError naming it', (_what, options) => {
    expect(() => profiler(options)).toThrow(expect.objectContaining({ code: 'FLOWGATE_ERR_CONFIG' }));
  });

  it('names the option in the message', () => {
    expect(() => profiler({ sampleRate: 2 })).toThrow('`sampleRate` must be a number between 0 and 1, got 2');
  });

  it('rejects unknown events and non-function listeners', () => {
    const p = profiler();
    expect(() => p.on('gc' as 'leak', () => {})).toThrow(expect.objectContaining({ code: 'FLOWGATE_ERR_CONFIG' }));
    expect(() => p.on('leak', null as unknown as () => void)).toThrow(
      expect.objectContaining({ code: 'FLOWGATE_ERR_CONFIG' }),
    );
  });
});

describe('the plugin in a gateway', () => {
  it("is named 'profiler' and found by other plugins under that name", () => {
    const p = profiler({ leak: false });
    expect(p.name).toBe('profiler');
    let found: unknown;
    const reader = {
      name: 'reader',
      setup(host: PluginHost) {
        found = host.getPlugin('profiler');
      },
    };
    gateways.push(createGateway({ providers: [provider()], plugins: [p, reader] }));
    expect(found).toBe(p);
  });

  it('refuses a second running gateway, and can be installed again after close', async () => {
    const p = profiler({ leak: false });
    const first = install(p);
    expect(() => createGateway({ providers: [provider()], plugins: [p] })).toThrow(
      expect.objectContaining({ code: 'FLOWGATE_ERR_CONFIG' }),
    );
    await first.close();
    install(p);
    expect(p.snapshot().gc.totalCount).toBe(0);
  });

  it('snapshot(): GC pause percentiles, heap, memory and event-loop readings', async () => {
    const p = profiler({ leak: false, eventLoopResolutionMs: 2 });
    install(p);
    const seen = p.snapshot().gc.byType.major.count;
    forceGc();
    await until(() => p.snapshot().gc.byType.major.count > seen, 'the forced GC to be reported');
    // Let the delay monitor measure some ticks.
    await until(() => p.snapshot().eventLoop.delayMaxMs > 0 || p.snapshot().eventLoop.utilization > 0, 'loop readings');

    const s = p.snapshot();
    expect(s.gc.count).toBeGreaterThanOrEqual(1);
    expect(s.gc.totalCount).toBeGreaterThanOrEqual(s.gc.byType.major.count);
    expect(s.gc.p99Ms).toBeGreaterThanOrEqual(s.gc.p50Ms);
    expect(s.gc.maxMs).toBeGreaterThanOrEqual(s.gc.p99Ms);
    expect(s.gc.windowMs).toBe(60_000);
    expect(s.heap.limitBytes).toBe(getHeapStatistics().heap_size_limit);
    expect(s.heap.usedBytes).toBeGreaterThan(0);
    expect(s.heap.totalBytes).toBeGreaterThanOrEqual(s.heap.usedBytes);
    expect(s.heap.afterGcBytes).toBeGreaterThan(0);
    expect(s.memory.rssBytes).toBeGreaterThan(s.heap.usedBytes);
    expect(s.eventLoop.delayP99Ms).toBeGreaterThanOrEqual(s.eventLoop.delayP50Ms);
    expect(s.eventLoop.delayMaxMs).toBeGreaterThanOrEqual(s.eventLoop.delayP99Ms);
    expect(s.eventLoop.utilization).toBeGreaterThanOrEqual(0);
    expect(s.eventLoop.utilization).toBeLessThanOrEqual(1);

    const line = formatSnapshot(s);
    expect(line).toMatch(/^GC p99 \d+\.\d+ ms \(\d+ in 60 s\) · heap \d+\.\d MB \/ \d+\.\d MB · event-loop delay p99 /);
  });

  it('works without an OpenTelemetry SDK (no-op meter and tracer)', async () => {
    const p = profiler({ leak: false, sampleRate: 1 });
    install(p);
    forceGc();
    await until(() => p.snapshot().gc.totalCount > 0, 'the forced GC to be reported');
    expect(p.report()).toMatchObject({ calls: 0, sampledCalls: 0, operations: [] });
  });
});
