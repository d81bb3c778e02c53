import { ConfigError } from '@flowgate/core';
import { checkNumber } from './errors.js';

export interface LeakWatchOptions {
  /** Length of a window, ms; default 60 000. Each window keeps the lowest heap read after a major GC. */
  windowMs?: number;
  /** Windows (with at least one major GC) that must show growth; default 5. */
  windows?: number;
  /** Growth over those windows, bytes, below which nothing is reported; default 16 MiB. */
  minGrowthBytes?: number;
  /** Growth rate (least-squares slope over those windows) below which nothing is reported; default 1 MiB/min. */
  minBytesPerMinute?: number;
  /** Write one heap snapshot the first time a leak is suspected (blocks the process while it writes); default false. */
  heapSnapshot?: boolean;
  /** Called on each suspected leak (as are `plugin.on('leak')` listeners). */
  onLeak?: (event: LeakEvent) => void;
}

export interface LeakWindow {
  /** When the window closed (Date.now()). */
  endedAt: number;
  /** The lowest used heap read after a major GC in the window, bytes: live data plus noise. */
  heapAfterGcBytes: number;
  /** Major GCs seen in the window. */
  majorGcs: number;
}

export interface LeakStatus {
  /** The windows considered, oldest first (at most `windows`). */
  windows: LeakWindow[];
  /** Last minus first window, bytes. */
  growthBytes: number;
  /** Least-squares slope over the windows, bytes per minute (0 with fewer than two windows). */
  bytesPerMinute: number;
  /** True when this check found sustained growth (an event was raised and the history restarts). */
  suspected: boolean;
}

export interface LeakEvent {
  /** Date.now() when the leak was suspected. */
  at: number;
  windows: LeakWindow[];
  growthBytes: number;
  bytesPerMinute: number;
  heapUsedBytes: number;
  heapLimitBytes: number;
  /** The heap snapshot taken for this event (only the first event, with `heapSnapshot: true`). */
  snapshotPath?: string;
}

export interface ResolvedLeakOptions {
  windowMs: number;
  windows: number;
  minGrowthBytes: number;
  minBytesPerMinute: number;
  heapSnapshot: boolean;
  onLeak: ((event: LeakEvent) => void) | undefined;
}

const MiB = 1024 * 1024;

export function resolveLeakOptions(o: LeakWatchOptions): ResolvedLeakOptions {
  if (o.onLeak !== undefined && typeof o.onLeak !== 'function') {
    throw new ConfigError('profiler: `leak.onLeak` must be a function');
  }
  return {
    // setInterval takes at most 2^31 - 1 ms.
    windowMs: checkNumber(o.windowMs, 'leak.windowMs', 60_000, { min: 1, max: 2_147_483_647 }),
    windows: checkNumber(o.windows, 'leak.windows', 5, { integer: true, min: 2 }),
    minGrowthBytes: checkNumber(o.minGrowthBytes, 'leak.minGrowthBytes', 16 * MiB, { min: 0 }),
    minBytesPerMinute: checkNumber(o.minBytesPerMinute, 'leak.minBytesPerMinute', MiB, { min: 0 }),
    heapSnapshot: o.heapSnapshot === true,
    onLeak: o.onLeak,
  };
}

/**
 * Decides whether the heap keeps growing, from the used heap read after major GCs (the live data).
 *
 * Samples go into the open window, which keeps their minimum. A closed window without a major GC is
 * skipped (no evidence either way). A leak is suspected when, over the last `windows` windows,
 * at least three quarters of the steps went up, the growth reaches `minGrowthBytes`, and the slope
 * reaches `minBytesPerMinute`. Then the history restarts, so a leak that goes on is reported again
 * after another `windows` windows, not at every window.
 */
export class LeakDetector {
  private history: LeakWindow[] = [];
  private openMin = Number.POSITIVE_INFINITY;
  private openCount = 0;

  constructor(
    private readonly options: Pick<ResolvedLeakOptions, 'windows' | 'minGrowthBytes' | 'minBytesPerMinute'>,
  ) {}

  /** Used heap right after a major GC. */
  addSample(heapBytes: number): void {
    if (heapBytes < this.openMin) this.openMin = heapBytes;
    this.openCount++;
  }

  closeWindow(now: number): LeakStatus {
    if (this.openCount > 0) {
      this.history.push({ endedAt: now, heapAfterGcBytes: this.openMin, majorGcs: this.openCount });
      if (this.history.length > this.options.windows) this.history.shift();
    }
    this.openMin = Number.POSITIVE_INFINITY;
    this.openCount = 0;
    const status = this.evaluate();
    if (status.suspected) this.history = [];
    return status;
  }

  private evaluate(): LeakStatus {
    const w = this.history.slice();
    const n = w.length;
    const growthBytes = n > 1 ? w[n - 1]!.heapAfterGcBytes - w[0]!.heapAfterGcBytes : 0;
    const bytesPerMinute = slopePerMinute(w);
    let suspected = false;
    if (n >= this.options.windows) {
      let ups = 0;
      for (let i = 1; i < n; i++) if (w[i]!.heapAfterGcBytes > w[i - 1]!.heapAfterGcBytes) ups++;
      suspected =
        ups >= Math.ceil((n - 1) * 0.75) &&
        growthBytes >= this.options.minGrowthBytes &&
        growthBytes > 0 &&
        bytesPerMinute >= this.options.minBytesPerMinute;
    }
    return { windows: w, growthBytes, bytesPerMinute, suspected };
  }
}

/** Least-squares slope of heap over time, bytes per minute. */
function slopePerMinute(w: readonly LeakWindow[]): number {
  const n = w.length;
  if (n < 2) return 0;
  let mt = 0;
  let mb = 0;
  for (const x of w) {
    mt += x.endedAt;
    mb += x.heapAfterGcBytes;
  }
  mt /= n;
  mb /= n;
  let num = 0;
  let den = 0;
  for (const x of w) {
    num += (x.endedAt - mt) * (x.heapAfterGcBytes - mb);
    den += (x.endedAt - mt) ** 2;
  }
  if (den === 0) {
    // Every window closed within one millisecond (checks called back to back): no time passed.
    const growth = w[n - 1]!.heapAfterGcBytes - w[0]!.heapAfterGcBytes;
    return growth === 0 ? 0 : growth > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  return (num / den) * 60_000;
}
