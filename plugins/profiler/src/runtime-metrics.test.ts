// @vitest-environment node
/**
 * Runtime metrics through a real SDK MeterProvider with in-memory collection. GCs are forced with
 * gc() obtained at run time (see gc.test-util.ts), since vitest does not start workers with --expose-gc.
 */
import { createGateway, type Gateway } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { allocate, forceGc, until } from './gc.test-util.js';
import { type ProfilerOptions, profiler } from './index.js';
import { metricPoints, metricValue } from './metrics.test-util.js';

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

function setup(options: ProfilerOptions = {}) {
  const t = telemetry();
  const plugin = profiler({ leak: false, ...options });
  // No call is made in these tests: the provider only has to exist.
  const gateway = createGateway({
    providers: [openai({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' })],
    plugins: [plugin],
    meterProvider: t.meterProvider,
    tracerProvider: t.tracerProvider,
  });
  gateways.push(gateway);
  return { t, plugin, gateway };
}

type HistogramValue = { count: number; sum: number };

describe('runtime metrics', () => {
  it('records a forced GC in v8js.gc.duration under v8js.gc.type=major', async () => {
    const { t, plugin } = setup();
    const before = (metricValue(await t.metrics(), 'v8js.gc.duration', { 'v8js.gc.type': 'major' }) as
      | HistogramValue
      | undefined) ?? { count: 0, sum: 0 };
    const seen = plugin.snapshot().gc.byType.major.count;
    forceGc();
    await until(() => plugin.snapshot().gc.byType.major.count > seen, 'the major GC entry');

    const rm = await t.metrics();
    const { unit, points } = metricPoints(rm, 'v8js.gc.duration');
    expect(unit).toBe('s');
    const major = metricValue(rm, 'v8js.gc.duration', { 'v8js.gc.type': 'major' }) as HistogramValue;
    expect(major.count).toBeGreaterThan(before.count);
    expect(major.sum).toBeGreaterThan(before.sum);
    // Only the convention's type names are used.
    for (const p of points) expect(['major', 'minor', 'incremental', 'weakcb']).toContain(p.attributes['v8js.gc.type']);

    const snap = plugin.snapshot();
    expect(snap.gc.byType.major.count).toBeGreaterThanOrEqual(1);
    expect(snap.gc.p99Ms).toBeGreaterThan(0);
    expect(snap.heap.afterGcBytes).toBeGreaterThan(0);
    expect(metricValue(rm, 'flowgate.runtime.heap.after_gc')).toBe(snap.heap.afterGcBytes);
  });

  it('reports minor GCs (scavenges) as v8js.gc.type=minor', async () => {
    const { t, plugin } = setup();
    const seen = plugin.snapshot().gc.byType.minor.count;
    // Short-lived garbage fills the young generation until it is scavenged.
    // (Kept reachable for a while, so that the optimizer cannot drop the allocation.)
    let keep: { n: number }[] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ n: i });
      if (keep.length > 1000) keep = [];
    }
    expect(keep.length).toBeGreaterThan(0);
    await until(() => plugin.snapshot().gc.byType.minor.count > seen, 'a scavenge');
    const minor = metricValue(await t.metrics(), 'v8js.gc.duration', { 'v8js.gc.type': 'minor' }) as HistogramValue;
    expect(minor.count).toBeGreaterThan(0);
  });

  it('observes heap per space, heap totals, process memory and the event loop', async () => {
    const { t } = setup({ eventLoopResolutionMs: 2 });
    // The delay gauges appear once the monitor has measured ticks.
    let rm = await t.metrics();
    for (let i = 0; i < 100 && metricPoints(rm, 'nodejs.eventloop.delay.p99').points.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      rm = await t.metrics();
    }

    const used = metricPoints(rm, 'v8js.memory.heap.used');
    expect(used.unit).toBe('By');
    const spaces = used.points.map((p) => p.attributes['v8js.heap.space.name']);
    expect(spaces).toEqual(expect.arrayContaining(['new_space', 'old_space', 'code_space', 'large_object_space']));
    expect(metricValue(rm, 'v8js.memory.heap.used', { 'v8js.heap.space.name': 'old_space' })).toBeGreaterThan(0);
    for (const name of [
      'v8js.memory.heap.space.size',
      'v8js.memory.heap.space.available_size',
      'v8js.memory.heap.space.physical_size',
    ]) {
      expect(metricPoints(rm, name).points.length).toBe(used.points.length);
    }

    const heapUsed = metricValue(rm, 'flowgate.runtime.heap.used') as number;
    const heapTotal = metricValue(rm, 'flowgate.runtime.heap.total') as number;
    const heapLimit = metricValue(rm, 'flowgate.runtime.heap.limit') as number;
    expect(heapUsed).toBeGreaterThan(0);
    expect(heapTotal).toBeGreaterThanOrEqual(heapUsed);
    expect(heapLimit).toBeGreaterThan(heapTotal);
    expect(metricValue(rm, 'process.memory.usage')).toBeGreaterThan(heapUsed);
    expect(metricValue(rm, 'flowgate.runtime.memory.external')).toBeGreaterThan(0);
    expect(typeof metricValue(rm, 'flowgate.runtime.memory.array_buffers')).toBe('number');

    for (const stat of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      const v = metricValue(rm, `nodejs.eventloop.delay.${stat}`) as number;
      expect(v, stat).toBeGreaterThanOrEqual(0);
    }
    expect(metricPoints(rm, 'nodejs.eventloop.delay.p99').unit).toBe('s');
    const elu = metricValue(rm, 'nodejs.eventloop.utilization') as number;
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
    const activeS = metricValue(rm, 'nodejs.eventloop.time', { 'nodejs.eventloop.state': 'active' }) as number;
    const idleS = metricValue(rm, 'nodejs.eventloop.time', { 'nodejs.eventloop.state': 'idle' }) as number;
    expect(activeS).toBeGreaterThan(0);
    expect(idleS).toBeGreaterThanOrEqual(0);
  });

  it('releases the GC observer and the metric callback on gateway.close()', async () => {
    const { t, plugin, gateway } = setup();
    const observed = metricValue(await t.metrics(), 'flowgate.runtime.heap.used') as number;
    expect(observed).toBeGreaterThan(0);
    await gateway.close();

    const counted = plugin.snapshot().gc.totalCount;
    forceGc();
    // Give a reported GC every chance to arrive: an observer still connected would count it.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(plugin.snapshot().gc.totalCount).toBe(counted);

    // The SDK repeats the last observed value of a series; a callback still registered would
    // observe the heap grown by the 8+ MiB kept here.
    const kept = allocate(8);
    const after = metricValue(await t.metrics(), 'flowgate.runtime.heap.used') as number;
    expect(after).toBe(observed);
    expect(kept.length).toBeGreaterThan(0);
  });
});
