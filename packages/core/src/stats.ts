import { type Summary, WindowedHistogram } from './histogram.js';

export interface SeriesStats {
  count: number;
  errors: number;
  errorRate: number;
  latencyMs: Summary;
  /** Streamed calls only. */
  timeToFirstChunkMs: Summary;
}

export interface GatewayStats {
  windowMs: number;
  /** Keyed by operation (`chat`). */
  operations: Record<string, SeriesStats>;
  /** Keyed by provider id (the provider that served the call, or failed last). */
  providers: Record<string, SeriesStats>;
}

class Series {
  readonly latency: WindowedHistogram;
  readonly ttfc: WindowedHistogram;
  readonly errors: WindowedHistogram;

  constructor(windowMs: number) {
    this.latency = new WindowedHistogram(windowMs);
    this.ttfc = new WindowedHistogram(windowMs);
    // Errors kept as a histogram of their latency, so they age out with the same window.
    this.errors = new WindowedHistogram(windowMs);
  }

  snapshot(now: number): SeriesStats {
    const latencyMs = this.latency.snapshot(now);
    const errors = this.errors.snapshot(now).count;
    return {
      count: latencyMs.count,
      errors,
      errorRate: latencyMs.count === 0 ? 0 : errors / latencyMs.count,
      latencyMs,
      timeToFirstChunkMs: this.ttfc.snapshot(now),
    };
  }
}

/** The performance-tracker view: per operation and per provider, over a sliding window. */
export class StatsRecorder {
  private readonly operations = new Map<string, Series>();
  private readonly providers = new Map<string, Series>();

  constructor(readonly windowMs = 60_000) {}

  private series(map: Map<string, Series>, key: string): Series {
    let s = map.get(key);
    if (!s) {
      s = new Series(this.windowMs);
      map.set(key, s);
    }
    return s;
  }

  record(
    operation: string,
    provider: string | undefined,
    latencyMs: number,
    ttfcMs: number | undefined,
    ok: boolean,
  ): void {
    const now = Date.now();
    const op = this.series(this.operations, operation);
    op.latency.record(latencyMs, now);
    if (ttfcMs !== undefined) op.ttfc.record(ttfcMs, now);
    if (!ok) op.errors.record(latencyMs, now);
    if (provider === undefined) return;
    const p = this.series(this.providers, provider);
    p.latency.record(latencyMs, now);
    if (ttfcMs !== undefined) p.ttfc.record(ttfcMs, now);
    if (!ok) p.errors.record(latencyMs, now);
  }

  snapshot(): GatewayStats {
    const now = Date.now();
    const collect = (map: Map<string, Series>) =>
      Object.fromEntries([...map].map(([k, s]) => [k, s.snapshot(now)] as const));
    return { windowMs: this.windowMs, operations: collect(this.operations), providers: collect(this.providers) };
  }
}
