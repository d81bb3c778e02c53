import { type ELDHistogram, type EventLoopUtilization, monitorEventLoopDelay } from 'node:perf_hooks';

/** Event-loop delay over a window, ms: how late the loop ran a timer beyond its interval. */
export interface EventLoopDelay {
  minMs: number;
  maxMs: number;
  meanMs: number;
  stddevMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Timer ticks measured in the window. */
  samples: number;
}

/**
 * `monitorEventLoopDelay` reports the time between two ticks of its own timer, which includes the
 * timer's interval (`resolution`): an idle loop reads ~resolution. The interval is subtracted, so
 * that 0 means "on time".
 */
export class EventLoopMonitor {
  private readonly histogram: ELDHistogram;

  constructor(readonly resolutionMs: number) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  /** The delay since the last reset; `undefined` when no tick was measured. */
  read(reset: boolean): EventLoopDelay | undefined {
    const h = this.histogram;
    if (h.count === 0) return undefined;
    const r = this.resolutionMs;
    const ms = (ns: number) => Math.max(0, ns / 1e6 - r);
    const delay: EventLoopDelay = {
      minMs: ms(h.min),
      maxMs: ms(h.max),
      meanMs: ms(h.mean),
      stddevMs: h.stddev / 1e6,
      p50Ms: ms(h.percentile(50)),
      p90Ms: ms(h.percentile(90)),
      p99Ms: ms(h.percentile(99)),
      samples: h.count,
    };
    if (reset) h.reset();
    return delay;
  }
}

/** Event-loop utilization (0..1) between successive reads, for one reader. */
export class UtilizationWindow {
  private last: EventLoopUtilization = performance.eventLoopUtilization();

  next(): number {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    return delta.utilization;
  }
}
