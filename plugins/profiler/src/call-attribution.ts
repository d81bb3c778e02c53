import type { CallContext, CallMiddleware, ChatCompletion, Next, Reply } from '@flowgate/core';
import { diag } from '@opentelemetry/api';
import type { GcTotals } from './gc-types.js';
import { usedHeap } from './heap.js';
import {
  ATTR_PROFILER_GC_COUNT,
  ATTR_PROFILER_GC_PAUSE,
  ATTR_PROFILER_HEAP_DELTA,
  ATTR_PROFILER_SAMPLED,
} from './names.js';

/** What was measured for one sampled call (`response.flowgate.profile`, `stream.meta.profile`). */
export interface CallProfile {
  /** Used heap at the end minus at the start, bytes (net; see the README on its accuracy). */
  heapDeltaBytes: number;
  /** GC pauses reported while the call was open, and their total, ms. */
  gcCount: number;
  gcTimeMs: number;
  durationMs: number;
}

declare module '@flowgate/core' {
  interface CallOptions {
    /** Profiler: `true` measures this call whatever the sample rate; `false` never does. */
    profile?: boolean;
  }
  interface CallMeta {
    /** Profiler: heap and GC during this call, when it was sampled. */
    profile?: CallProfile;
  }
}

/** Aggregate of the sampled calls of one operation and model. */
export interface OperationProfile {
  operation: string;
  /** The requested model (`_OTHER` past 1000 distinct models). */
  model: string;
  /** Sampled calls, and how many of them failed. */
  calls: number;
  errors: number;
  /** Sampled calls during which at least one GC was reported. */
  callsWithGc: number;
  gcCount: number;
  gcTimeMs: { total: number; avg: number; max: number };
  heapDeltaBytes: { avg: number; min: number; max: number };
  durationMs: { avg: number; max: number };
}

export interface CallProfileReport {
  sampleRate: number;
  /** Calls seen by the middleware, and how many were measured. */
  calls: number;
  sampledCalls: number;
  operations: OperationProfile[];
}

interface Series {
  operation: string;
  model: string;
  calls: number;
  errors: number;
  callsWithGc: number;
  gcCount: number;
  gcTimeTotal: number;
  gcTimeMax: number;
  heapDeltaSum: number;
  heapDeltaMin: number;
  heapDeltaMax: number;
  durationSum: number;
  durationMax: number;
}

const MAX_SERIES = 1000;

/**
 * Per-call attribution: a call middleware that, for a sampled call, reads the used heap and the
 * GC totals at the start and at the end (for a stream: when its final response settles) and puts
 * the difference on the span, on `meta.profile`, and in the per operation/model aggregates.
 *
 * Sampling is a deterministic accumulator (rate 0.25 = every 4th call): the rate is exact at any
 * traffic, and a call that is not sampled costs an addition and a comparison.
 */
export class CallAttribution {
  private credit = 0;
  private seen = 0;
  private sampled = 0;
  private readonly series = new Map<string, Map<string, Series>>();
  private seriesCount = 0;

  constructor(
    readonly sampleRate: number,
    private readonly gc: GcTotals,
    private readonly maxSeries = MAX_SERIES,
  ) {}

  readonly middleware: CallMiddleware = (ctx, next) => {
    this.seen++;
    const forced = ctx.options.profile;
    if (forced === undefined) {
      this.credit += this.sampleRate;
      // The epsilon absorbs float drift (ten additions of 0.1 are 0.9999999999999999).
      if (this.credit < 1 - 1e-9) return next();
      this.credit -= 1;
    } else if (!forced) {
      return next();
    }
    return this.measure(ctx, next);
  };

  private async measure(ctx: CallContext, next: Next): Promise<Reply> {
    this.sampled++;
    const gc = this.gc;
    const heap0 = usedHeap();
    const count0 = gc.count;
    const time0 = gc.timeMs;
    const start = performance.now();
    const done = (failed: boolean) => {
      try {
        const p: CallProfile = {
          heapDeltaBytes: usedHeap() - heap0,
          gcCount: gc.count - count0,
          gcTimeMs: gc.timeMs - time0,
          durationMs: performance.now() - start,
        };
        this.record(ctx, p, failed);
      } catch (err) {
        // Measuring must never fail the call it measures.
        diag.error('flowgate profiler: could not record a call profile', err);
      }
    };
    let reply: Reply;
    try {
      reply = await next();
    } catch (err) {
      done(true);
      throw err;
    }
    if (reply.type === 'response') {
      done(false);
      return reply;
    }
    // A stream: the call ends when its final response settles. The gateway waits for this
    // promise, so the span is still open when the attributes are set.
    const response: Promise<ChatCompletion> = reply.response.then(
      (r) => {
        done(false);
        return r;
      },
      (err: unknown) => {
        done(true);
        throw err;
      },
    );
    // A reader that stops early never awaits it; its rejection must not go unhandled.
    response.catch(() => {});
    return { type: 'stream', chunks: reply.chunks, response };
  }

  private record(ctx: CallContext, p: CallProfile, failed: boolean): void {
    ctx.meta.profile = p;
    const span = ctx.span;
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_PROFILER_SAMPLED]: true,
        [ATTR_PROFILER_HEAP_DELTA]: p.heapDeltaBytes,
        [ATTR_PROFILER_GC_COUNT]: p.gcCount,
        [ATTR_PROFILER_GC_PAUSE]: p.gcTimeMs,
      });
    }
    const s = this.seriesFor(ctx.operation, ctx.request.model);
    s.calls++;
    if (failed) s.errors++;
    if (p.gcCount > 0) s.callsWithGc++;
    s.gcCount += p.gcCount;
    s.gcTimeTotal += p.gcTimeMs;
    if (p.gcTimeMs > s.gcTimeMax) s.gcTimeMax = p.gcTimeMs;
    s.heapDeltaSum += p.heapDeltaBytes;
    if (p.heapDeltaBytes < s.heapDeltaMin) s.heapDeltaMin = p.heapDeltaBytes;
    if (p.heapDeltaBytes > s.heapDeltaMax) s.heapDeltaMax = p.heapDeltaBytes;
    s.durationSum += p.durationMs;
    if (p.durationMs > s.durationMax) s.durationMax = p.durationMs;
  }

  private seriesFor(operation: string, model: string): Series {
    // Nested maps: no key string built per call.
    let models = this.series.get(operation);
    if (!models) {
      models = new Map();
      this.series.set(operation, models);
    }
    let s = models.get(model);
    if (s) return s;
    if (this.seriesCount >= this.maxSeries) {
      model = '_OTHER';
      s = models.get(model);
      if (s) return s;
    }
    s = {
      operation,
      model,
      calls: 0,
      errors: 0,
      callsWithGc: 0,
      gcCount: 0,
      gcTimeTotal: 0,
      gcTimeMax: 0,
      heapDeltaSum: 0,
      heapDeltaMin: Number.POSITIVE_INFINITY,
      heapDeltaMax: Number.NEGATIVE_INFINITY,
      durationSum: 0,
      durationMax: 0,
    };
    models.set(model, s);
    this.seriesCount++;
    return s;
  }

  report(): CallProfileReport {
    const operations: OperationProfile[] = [];
    for (const s of [...this.series.values()].flatMap((m) => [...m.values()])) {
      operations.push({
        operation: s.operation,
        model: s.model,
        calls: s.calls,
        errors: s.errors,
        callsWithGc: s.callsWithGc,
        gcCount: s.gcCount,
        gcTimeMs: { total: s.gcTimeTotal, avg: s.gcTimeTotal / s.calls, max: s.gcTimeMax },
        heapDeltaBytes: { avg: s.heapDeltaSum / s.calls, min: s.heapDeltaMin, max: s.heapDeltaMax },
        durationMs: { avg: s.durationSum / s.calls, max: s.durationMax },
      });
    }
    operations.sort((a, b) => b.calls - a.calls);
    return { sampleRate: this.sampleRate, calls: this.seen, sampledCalls: this.sampled, operations };
  }
}
