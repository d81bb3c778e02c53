// @vitest-environment node
/**
 * The leak watch: the detector's rule on synthetic windows, then the plugin in this process with an
 * injected leak (arrays kept alive, full GCs forced with gc() obtained at run time) and with a
 * steady workload of the same allocation that is not kept.
 */

import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGateway, type Gateway } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { allocate, forceGc, until } from './gc.test-util.js';
import { LeakDetector, type LeakEvent, type LeakStatus, type ProfilerPlugin, profiler } from './index.js';
import { metricValue } from './metrics.test-util.js';

const MiB = 1024 * 1024;
const MINUTE = 60_000;

describe('LeakDetector', () => {
  const options = { windows: 4, minGrowthBytes: 10 * MiB, minBytesPerMinute: MiB };

  /** Feeds one window per value (heap MiB after GC), a minute apart; returns each window's status. */
  function run(detector: LeakDetector, heapsMb: (number | undefined)[]): LeakStatus[] {
    return heapsMb.map((mb, i) => {
      if (mb !== undefined) detector.addSample(mb * MiB);
      return detector.closeWindow((i + 1) * MINUTE);
    });
  }

  it('suspects a leak after `windows` windows of growth past both thresholds', () => {
    const statuses = run(new LeakDetector(options), [100, 105, 110, 116]);
    expect(statuses.map((s) => s.suspected)).toEqual([false, false, false, true]);
    const last = statuses[3]!;
    expect(last.growthBytes).toBe(16 * MiB);
    expect(last.bytesPerMinute / MiB).toBeCloseTo(5.3, 1);
    expect(last.windows.map((w) => w.heapAfterGcBytes / MiB)).toEqual([100, 105, 110, 116]);
  });

  it('keeps the lowest sample of a window (the one least disturbed by new allocation)', () => {
    const d = new LeakDetector(options);
    d.addSample(130 * MiB);
    d.addSample(100 * MiB);
    d.addSample(120 * MiB);
    expect(d.closeWindow(MINUTE).windows).toEqual([{ endedAt: MINUTE, heapAfterGcBytes: 100 * MiB, majorGcs: 3 }]);
  });

  it('stays quiet on a steady heap, on noise, and on growth below a threshold', () => {
    expect(run(new LeakDetector(options), [100, 100, 100, 100, 100, 100]).some((s) => s.suspected)).toBe(false);
    expect(run(new LeakDetector(options), [100, 108, 99, 107, 100, 108, 98]).some((s) => s.suspected)).toBe(false);
    // Steady growth, but only 6 MiB over four windows.
    expect(run(new LeakDetector(options), [100, 102, 104, 106]).some((s) => s.suspected)).toBe(false);
    // 12 MiB, but over four hours: below 1 MiB/min.
    const slow = new LeakDetector(options);
    const statuses = [100, 104, 108, 112].map((mb, i) => {
      slow.addSample(mb * MiB);
      return slow.closeWindow((i + 1) * 80 * MINUTE);
    });
    expect(statuses.some((s) => s.suspected)).toBe(false);
  });

  it('tolerates one dip in four steps, skips windows without a major GC', () => {
    const statuses = run(new LeakDetector({ ...options, windows: 5 }), [100, 106, undefined, 104, 112, 118]);
    expect(statuses.map((s) => s.suspected)).toEqual([false, false, false, false, false, true]);
    expect(statuses[5]!.windows).toHaveLength(5);
  });

  it('starts over after a report, so a continuing leak is reported once per `windows` windows', () => {
    const statuses = run(new LeakDetector(options), [100, 106, 112, 118, 124, 130, 136, 142]);
    expect(statuses.map((s) => s.suspected)).toEqual([false, false, false, true, false, false, false, true]);
  });
});

describe('leak watch in a live process', () => {
  let dir: string;
  const gateways: Gateway[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-leak-test-'));
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function install(heapSnapshot: boolean) {
    const t = telemetry();
    const events: LeakEvent[] = [];
    const plugin = profiler({
      outputDir: dir,
      // The windows are closed by the test (checkLeaks()), never by the hour-long timer.
      leak: { windowMs: 3_600_000, windows: 4, minGrowthBytes: 8 * MiB, heapSnapshot, onLeak: (e) => events.push(e) },
    });
    const gateway = createGateway({
      providers: [openai({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' })],
      plugins: [plugin],
      meterProvider: t.meterProvider,
    });
    gateways.push(gateway);
    return { t, plugin, events };
  }

  /** One window: some work, a full GC (waiting until it is reported), then the check. */
  async function window(plugin: ProfilerPlugin, work: () => void): Promise<LeakStatus> {
    work();
    const seen = plugin.snapshot().gc.byType.major.count;
    forceGc();
    await until(() => plugin.snapshot().gc.byType.major.count > seen, 'the forced GC to be reported');
    return plugin.checkLeaks();
  }

  it('fires on an injected leak, with one heap snapshot, and counts it', async () => {
    const { t, plugin, events } = install(true);
    const listened: LeakEvent[] = [];
    plugin.on('leak', (e) => listened.push(e));
    const leaked: unknown[] = [];
    const statuses: LeakStatus[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await window(plugin, () => leaked.push(allocate(4))));

    // Reported after the 4th window, and again after 4 more (the history restarts).
    expect(statuses.map((s) => s.suspected)).toEqual([false, false, false, true, false, false, false, true]);
    expect(events).toHaveLength(2);
    expect(listened).toEqual(events);
    const first = events[0]!;
    expect(first.growthBytes).toBeGreaterThanOrEqual(12 * MiB);
    expect(first.bytesPerMinute).toBeGreaterThan(MiB);
    expect(first.windows).toHaveLength(4);
    expect(first.heapLimitBytes).toBeGreaterThan(first.heapUsedBytes);
    // One snapshot only, in the output directory.
    expect(dirname(first.snapshotPath!)).toBe(dir);
    await access(first.snapshotPath!);
    expect(events[1]!.snapshotPath).toBeUndefined();
    expect(metricValue(await t.metrics(), 'flowgate.leak.suspected')).toBe(2);
    expect(metricValue(await t.metrics(), 'flowgate.leak.growth_rate')).toBeGreaterThan(0);
    expect(leaked).toHaveLength(8);
  });

  it('stays quiet on a steady workload that allocates the same but keeps nothing', async () => {
    const { t, plugin, events } = install(false);
    const statuses: LeakStatus[] = [];
    let last: unknown;
    for (let i = 0; i < 8; i++) {
      statuses.push(
        await window(plugin, () => {
          last = allocate(4);
          last = undefined;
        }),
      );
    }
    expect(last).toBeUndefined();
    expect(statuses.every((s) => !s.suspected)).toBe(true);
    // Every window had its major GC: the watch did look.
    expect(statuses[7]!.windows).toHaveLength(4);
    expect(Math.abs(statuses[7]!.growthBytes)).toBeLessThan(8 * MiB);
    expect(events).toEqual([]);
    expect(metricValue(await t.metrics(), 'flowgate.leak.suspected')).toBeUndefined();
  });

  it('keeps a throwing listener from breaking the watch', async () => {
    const { plugin, events } = install(false);
    plugin.on('leak', () => {
      throw new Error('listener bug');
    });
    const leaked: unknown[] = [];
    for (let i = 0; i < 4; i++) await window(plugin, () => leaked.push(allocate(4)));
    expect(events).toHaveLength(1);
  });

  it('can be turned off', async () => {
    const plugin = profiler({ leak: false });
    gateways.push(
      createGateway({ providers: [openai({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' })], plugins: [plugin] }),
    );
    await expect(plugin.checkLeaks()).rejects.toMatchObject({ code: 'FLOWGATE_ERR_PROFILER' });
  });
});
