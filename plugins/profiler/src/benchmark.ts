import { checkFunction, checkName, checkNumber } from './errors.js';
import { GcWatch } from './gc-watch.js';
import { usedHeap } from './heap.js';
import { type SampleStats, summarizeSamples } from './stats.js';

export interface BenchmarkOptions {
  /** Measured runs; default 100. */
  iterations?: number;
  /** Unmeasured runs first (JIT, caches, connections); default 10. */
  warmup?: number;
}

export interface BenchmarkResult {
  name: string;
  iterations: number;
  warmup: number;
  /** Wall time of the measured runs, ms. */
  totalMs: number;
  /** Runs per second over the measured runs. */
  opsPerSecond: number;
  /** Per-run wall time, ms: avg, min, max, stddev, p50, p90, p95, p99. */
  avgMs: number;
  minMs: number;
  maxMs: number;
  stddevMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** GC pauses during the measured runs. */
  gcCount: number;
  gcTimeMs: number;
  /** Used heap after the measured runs minus before (net; a GC in between lowers it). */
  heapDeltaBytes: number;
}

/**
 * Runs `fn` `warmup` times unmeasured, then `iterations` times one after another, timing each run
 * (awaited when it returns a promise). An error from `fn` stops the benchmark and is passed on.
 *
 * @example
 * const r = await benchmark('render', () => render(template), { iterations: 1000 });
 * console.log(`${r.p50Ms} ms p50, ${r.p99Ms} ms p99, ${r.gcCount} GCs`);
 */
export async function benchmark(
  name: string,
  fn: () => unknown,
  options: BenchmarkOptions = {},
): Promise<BenchmarkResult> {
  checkName(name, 'benchmark()');
  checkFunction(fn, 'the `fn` of benchmark(name, fn)');
  const iterations = checkNumber(options.iterations, 'iterations', 100, { integer: true, min: 1 });
  const warmup = checkNumber(options.warmup, 'warmup', 10, { integer: true, min: 0 });
  for (let i = 0; i < warmup; i++) await fn();

  const samples = new Float64Array(iterations);
  const watch = new GcWatch();
  const heapBefore = usedHeap();
  const start = performance.now();
  try {
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      const r = fn();
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') await r;
      samples[i] = performance.now() - t0;
    }
  } catch (err) {
    watch.cancel();
    throw err;
  }
  const end = performance.now();
  const heapDeltaBytes = usedHeap() - heapBefore;
  const gc = await watch.stop(start, end);
  const s: SampleStats = summarizeSamples(samples);
  const totalMs = end - start;
  return {
    name,
    iterations,
    warmup,
    totalMs,
    opsPerSecond: totalMs > 0 ? (iterations * 1000) / totalMs : Number.POSITIVE_INFINITY,
    avgMs: s.avg,
    minMs: s.min,
    maxMs: s.max,
    stddevMs: s.stddev,
    p50Ms: s.p50,
    p90Ms: s.p90,
    p95Ms: s.p95,
    p99Ms: s.p99,
    gcCount: gc.count,
    gcTimeMs: gc.timeMs,
    heapDeltaBytes,
  };
}
