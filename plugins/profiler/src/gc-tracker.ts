import { type PerformanceEntry, PerformanceObserver, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { WindowedHistogram } from '@flowgate/core';
import { type Attributes, diag, type Histogram } from '@opentelemetry/api';
import { emptyTotals, GC_TYPES, type GcTotals, type GcType, gcTypeOf } from './gc-types.js';
import { usedHeap } from './heap.js';
import { ATTR_V8JS_GC_TYPE } from './names.js';

/** Called with the used heap read just after a major GC was reported, and the time (Date.now()). */
export type MajorGcListener = (heapUsedBytes: number, at: number) => void;

/**
 * Watches every GC of the process for as long as the plugin runs: records each pause in the
 * `v8js.gc.duration` histogram, keeps running totals (per-call attribution reads them) and
 * sliding-window percentiles (`snapshot()`), and reads the used heap after each major GC, the
 * number the leak watch follows (after a mark-sweep-compact, what is left is live data).
 */
export class GcTracker {
  readonly totals: GcTotals = emptyTotals();
  /** Pauses of every type over the window, ms. */
  readonly window: WindowedHistogram;
  readonly windowByType: Record<GcType, WindowedHistogram>;
  /** Used heap read right after the latest / the largest major GC report, bytes. */
  lastHeapAfterMajor: number | undefined;
  peakHeapAfterMajor: number | undefined;
  onMajor: MajorGcListener | undefined;
  private readonly attributes: Record<GcType, Attributes>;
  private readonly observer: PerformanceObserver;

  constructor(
    private readonly histogram: Histogram,
    windowMs: number,
  ) {
    this.window = new WindowedHistogram(windowMs);
    this.windowByType = {
      minor: new WindowedHistogram(windowMs),
      major: new WindowedHistogram(windowMs),
      incremental: new WindowedHistogram(windowMs),
      weakcb: new WindowedHistogram(windowMs),
    };
    this.attributes = {} as Record<GcType, Attributes>;
    for (const t of GC_TYPES) this.attributes[t] = Object.freeze({ [ATTR_V8JS_GC_TYPE]: t });
    this.observer = new PerformanceObserver(this.onEntries);
  }

  start(): void {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    // Count what is already buffered, then stop.
    this.record(this.observer.takeRecords());
    this.observer.disconnect();
  }

  private readonly onEntries = (list: PerformanceObserverEntryList): void => {
    try {
      this.record(list.getEntries());
    } catch (err) {
      diag.error('flowgate profiler: failed to record GC entries', err);
    }
  };

  private record(entries: readonly PerformanceEntry[]): void {
    if (entries.length === 0) return;
    const now = Date.now();
    let major = false;
    const totals = this.totals;
    for (const e of entries) {
      const type = gcTypeOf(e);
      if (!type) continue;
      const ms = e.duration;
      totals.count++;
      totals.timeMs += ms;
      const t = totals.byType[type];
      t.count++;
      t.timeMs += ms;
      this.window.record(ms, now);
      this.windowByType[type].record(ms, now);
      this.histogram.record(ms / 1000, this.attributes[type]);
      if (type === 'major') major = true;
    }
    if (major) {
      // Entries arrive a turn or two after the pause: allocation in between is counted too, which
      // only adds noise (never a trend) to the leak watch.
      const heap = usedHeap();
      this.lastHeapAfterMajor = heap;
      if (this.peakHeapAfterMajor === undefined || heap > this.peakHeapAfterMajor) this.peakHeapAfterMajor = heap;
      this.onMajor?.(heap, now);
    }
  }
}
