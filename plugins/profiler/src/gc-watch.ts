import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { emptyTotals, type GcTotals, gcTypeOf } from './gc-types.js';

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Collects the GC pauses that start inside one stretch of time, for `profile()` and `benchmark()`.
 *
 * Node reports a GC as a perf_hooks entry one or two event-loop turns after the pause (JavaScript
 * cannot run inside the collector), so `stop()` waits two turns and takes the entries still
 * buffered before it counts.
 */
export class GcWatch {
  private readonly entries: PerformanceEntry[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.entries.push(e);
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops watching without counting (the measured code failed). */
  cancel(): void {
    this.observer.disconnect();
  }

  /** Totals of the pauses that started in [from, to] (`performance.now()` times); stops watching. */
  async stop(from: number, to: number): Promise<GcTotals> {
    try {
      await immediate();
      await immediate();
      for (const e of this.observer.takeRecords()) this.entries.push(e);
    } finally {
      this.observer.disconnect();
    }
    const totals = emptyTotals();
    for (const e of this.entries) {
      if (e.startTime < from || e.startTime > to) continue;
      const type = gcTypeOf(e);
      totals.count++;
      totals.timeMs += e.duration;
      if (type) {
        totals.byType[type].count++;
        totals.byType[type].timeMs += e.duration;
      }
    }
    return totals;
  }
}
