import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Meter } from '@opentelemetry/api';
import { CallAttribution } from './call-attribution.js';
import { EventLoopMonitor, UtilizationWindow } from './event-loop.js';
import { GcTracker } from './gc-tracker.js';
import { GC_TYPES, type GcType } from './gc-types.js';
import type { LeakEvent, ResolvedLeakOptions } from './leak-detector.js';
import { LeakWatch } from './leak-watch.js';
import { availableMemory, type RuntimeObservation, readHeapFlags } from './recommendations.js';
import { createRuntimeInstruments, observeRuntime } from './runtime-metrics.js';

/** GC pauses of one type over the window, ms. */
export interface GcPauseStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A reading of the runtime, for dashboards in code and the quickstart summary. */
export interface RuntimeSnapshot {
  /** Date.now() of the reading. */
  at: number;
  gc: GcPauseStats & {
    /** Span of the percentiles, ms. */
    windowMs: number;
    /** Collections and pause time since the profiler started. */
    totalCount: number;
    totalPauseMs: number;
    byType: Record<GcType, GcPauseStats>;
  };
  heap: {
    usedBytes: number;
    totalBytes: number;
    limitBytes: number;
    /** Used heap right after the latest major GC (the live data); undefined until one happened. */
    afterGcBytes: number | undefined;
  };
  memory: { rssBytes: number; externalBytes: number; arrayBuffersBytes: number };
  eventLoop: {
    /** Delay beyond the sampling interval, since the last metrics collection (or start), ms. */
    delayP50Ms: number;
    delayP99Ms: number;
    delayMaxMs: number;
    /** Share of time the loop was busy since the previous snapshot (or start), 0..1. */
    utilization: number;
  };
}

export interface RuntimeConfig {
  sampleRate: number;
  eventLoopResolutionMs: number;
  gcWindowMs: number;
  outputDir: string;
  leak: ResolvedLeakOptions | undefined;
}

/** Everything the plugin runs while installed in a gateway; `stop()` releases it all. */
export class Runtime {
  readonly gc: GcTracker;
  readonly eventLoop: EventLoopMonitor;
  readonly attribution: CallAttribution;
  readonly leak: LeakWatch | undefined;
  readonly startedAt = performance.now();
  private readonly snapshotUtilization = new UtilizationWindow();
  private readonly unobserve: () => void;
  stopped = false;

  constructor(
    meter: Meter,
    private readonly config: RuntimeConfig,
    raise: (event: LeakEvent) => void,
  ) {
    const instruments = createRuntimeInstruments(meter);
    this.gc = new GcTracker(instruments.gcDuration, config.gcWindowMs);
    this.eventLoop = new EventLoopMonitor(config.eventLoopResolutionMs);
    this.attribution = new CallAttribution(config.sampleRate, this.gc.totals);
    this.leak = config.leak && new LeakWatch(config.leak, instruments.leakSuspected, config.outputDir, raise);
    if (this.leak) this.gc.onMajor = this.leak.addSample;
    this.unobserve = observeRuntime(meter, {
      gc: this.gc,
      eventLoop: this.eventLoop,
      utilization: new UtilizationWindow(),
      leak: this.leak,
    });
    this.gc.start();
    this.eventLoop.start();
    this.leak?.start();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.leak?.stop();
    this.eventLoop.stop();
    this.gc.stop();
    this.unobserve();
  }

  snapshot(): RuntimeSnapshot {
    const heap = getHeapStatistics();
    const mem = process.memoryUsage();
    const delay = this.eventLoop.read(false);
    const gc = this.gc;
    const byType = {} as Record<GcType, GcPauseStats>;
    for (const t of GC_TYPES) byType[t] = pauses(gc.windowByType[t]);
    return {
      at: Date.now(),
      gc: {
        ...pauses(gc.window),
        windowMs: this.config.gcWindowMs,
        totalCount: gc.totals.count,
        totalPauseMs: gc.totals.timeMs,
        byType,
      },
      heap: {
        usedBytes: heap.used_heap_size,
        totalBytes: heap.total_heap_size,
        limitBytes: heap.heap_size_limit,
        afterGcBytes: gc.lastHeapAfterMajor,
      },
      memory: { rssBytes: mem.rss, externalBytes: mem.external, arrayBuffersBytes: mem.arrayBuffers },
      eventLoop: {
        delayP50Ms: delay?.p50Ms ?? 0,
        delayP99Ms: delay?.p99Ms ?? 0,
        delayMaxMs: delay?.maxMs ?? 0,
        utilization: this.snapshotUtilization.next(),
      },
    };
  }

  observation(): RuntimeObservation {
    const heap = getHeapStatistics();
    const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    const t = this.gc.totals.byType;
    return {
      observedMs: performance.now() - this.startedAt,
      minorGcs: { count: t.minor.count, timeMs: t.minor.timeMs, p99Ms: this.gc.windowByType.minor.snapshot().p99 },
      majorGcs: { count: t.major.count, timeMs: t.major.timeMs, p99Ms: this.gc.windowByType.major.snapshot().p99 },
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
      liveHeapBytes: this.gc.peakHeapAfterMajor,
      newSpaceBytes: newSpace?.space_size ?? 0,
      memoryBytes: availableMemory(),
      flags: readHeapFlags(),
    };
  }
}

function pauses(h: { snapshot(): { count: number; p50: number; p99: number; max: number } }): GcPauseStats {
  const s = h.snapshot();
  return { count: s.count, p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max };
}
