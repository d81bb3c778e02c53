import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  Meter,
  Observable,
  ObservableGauge,
} from '@opentelemetry/api';
import type { EventLoopMonitor, UtilizationWindow } from './event-loop.js';
import type { GcTracker } from './gc-tracker.js';
import type { LeakWatch } from './leak-watch.js';
import * as n from './names.js';

export interface RuntimeInstruments {
  gcDuration: Histogram;
  leakSuspected: Counter;
}

/** The instruments recorded synchronously (from GC entries and leak checks). */
export function createRuntimeInstruments(meter: Meter): RuntimeInstruments {
  return {
    gcDuration: meter.createHistogram(n.METRIC_V8JS_GC_DURATION, {
      description: 'Garbage collection duration',
      unit: 's',
      advice: { explicitBucketBoundaries: n.GC_DURATION_BUCKETS_S },
    }),
    leakSuspected: meter.createCounter(n.METRIC_LEAK_SUSPECTED, {
      description: 'Times the leak watch found the heap after GC growing steadily',
      unit: '{event}',
    }),
  };
}

export interface RuntimeSources {
  gc: GcTracker;
  eventLoop: EventLoopMonitor;
  /** The metrics' own utilization window (separate from `snapshot()`'s). */
  utilization: UtilizationWindow;
  leak: LeakWatch | undefined;
}

const DELAY_STATS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;

/**
 * Registers the observable runtime metrics, read once per collection in one batch callback (heap
 * statistics, heap spaces and process memory are each read once). The event-loop delay histogram
 * is reset after each collection, so every export covers the time since the previous one.
 * Returns the function that unregisters the callback.
 */
export function observeRuntime(meter: Meter, src: RuntimeSources): () => void {
  const bytes = (name: string, description: string) =>
    meter.createObservableUpDownCounter(name, { description, unit: 'By' });
  const spaceUsed = bytes(n.METRIC_V8JS_MEMORY_HEAP_USED, 'Heap memory size allocated, per heap space');
  const spaceSize = bytes(n.METRIC_V8JS_MEMORY_HEAP_SPACE_SIZE, 'Heap memory size pre-allocated, per heap space');
  const spaceAvailable = bytes(n.METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE, 'Heap space available size');
  const spacePhysical = bytes(n.METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE, 'Committed size of a heap space');
  const heapUsed = bytes(n.METRIC_HEAP_USED, 'V8 heap in use (all spaces)');
  const heapTotal = bytes(n.METRIC_HEAP_TOTAL, 'V8 heap reserved (all spaces)');
  const heapLimit = bytes(n.METRIC_HEAP_LIMIT, 'V8 heap size limit (--max-old-space-size and young generation)');
  const heapAfterGc = meter.createObservableGauge(n.METRIC_HEAP_AFTER_GC, {
    description: 'Used heap read right after the latest major GC (live data): the leak watch input',
    unit: 'By',
  });
  const rss = bytes(n.METRIC_PROCESS_MEMORY_USAGE, 'Resident set size of the process');
  const external = bytes(n.METRIC_MEMORY_EXTERNAL, 'Memory of C++ objects bound to JavaScript objects');
  const arrayBuffers = bytes(n.METRIC_MEMORY_ARRAY_BUFFERS, 'Memory of ArrayBuffers and SharedArrayBuffers');
  const delay = {} as Record<(typeof DELAY_STATS)[number], ObservableGauge>;
  for (const stat of DELAY_STATS) {
    delay[stat] = meter.createObservableGauge(`${n.METRIC_NODEJS_EVENTLOOP_DELAY_PREFIX}${stat}`, {
      description: `Event loop ${stat} delay since the previous collection, beyond the sampling interval`,
      unit: 's',
    });
  }
  const utilization = meter.createObservableGauge(n.METRIC_NODEJS_EVENTLOOP_UTILIZATION, {
    description: 'Event loop utilization since the previous collection',
    unit: '1',
  });
  const loopTime = meter.createObservableCounter(n.METRIC_NODEJS_EVENTLOOP_TIME, {
    description: 'Cumulative duration of time the event loop has been in each state',
    unit: 's',
  });
  const growthRate = meter.createObservableGauge(n.METRIC_LEAK_GROWTH_RATE, {
    description: 'Slope of the heap after GC over the leak-watch windows',
    unit: 'By/min',
  });

  const spaceAttrs = new Map<string, Attributes>();
  const attrsOf = (space: string): Attributes => {
    let a = spaceAttrs.get(space);
    if (!a) {
      a = Object.freeze({ [n.ATTR_V8JS_HEAP_SPACE_NAME]: space });
      spaceAttrs.set(space, a);
    }
    return a;
  };
  // Frozen, one object per series: a metrics SDK can recognise them by identity.
  const active: Attributes = Object.freeze({ [n.ATTR_NODEJS_EVENTLOOP_STATE]: 'active' });
  const idle: Attributes = Object.freeze({ [n.ATTR_NODEJS_EVENTLOOP_STATE]: 'idle' });

  const callback = (r: BatchObservableResult): void => {
    for (const s of getHeapSpaceStatistics()) {
      const a = attrsOf(s.space_name);
      r.observe(spaceUsed, s.space_used_size, a);
      r.observe(spaceSize, s.space_size, a);
      r.observe(spaceAvailable, s.space_available_size, a);
      r.observe(spacePhysical, s.physical_space_size, a);
    }
    const heap = getHeapStatistics();
    r.observe(heapUsed, heap.used_heap_size);
    r.observe(heapTotal, heap.total_heap_size);
    r.observe(heapLimit, heap.heap_size_limit);
    if (src.gc.lastHeapAfterMajor !== undefined) r.observe(heapAfterGc, src.gc.lastHeapAfterMajor);
    const mem = process.memoryUsage();
    r.observe(rss, mem.rss);
    r.observe(external, mem.external);
    r.observe(arrayBuffers, mem.arrayBuffers);
    const d = src.eventLoop.read(true);
    if (d) {
      r.observe(delay.min, d.minMs / 1000);
      r.observe(delay.max, d.maxMs / 1000);
      r.observe(delay.mean, d.meanMs / 1000);
      r.observe(delay.stddev, d.stddevMs / 1000);
      r.observe(delay.p50, d.p50Ms / 1000);
      r.observe(delay.p90, d.p90Ms / 1000);
      r.observe(delay.p99, d.p99Ms / 1000);
    }
    r.observe(utilization, src.utilization.next());
    const elu = performance.eventLoopUtilization();
    r.observe(loopTime, elu.active / 1000, active);
    r.observe(loopTime, elu.idle / 1000, idle);
    const rate = src.leak?.last.bytesPerMinute;
    if (rate !== undefined && Number.isFinite(rate)) r.observe(growthRate, rate);
  };

  const observables: Observable[] = [
    spaceUsed,
    spaceSize,
    spaceAvailable,
    spacePhysical,
    heapUsed,
    heapTotal,
    heapLimit,
    heapAfterGc,
    rss,
    external,
    arrayBuffers,
    ...Object.values(delay),
    utilization,
    loopTime,
    growthRate,
  ];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
