/** Summary statistics of a set of samples (ms for timings). */
export interface SampleStats {
  count: number;
  avg: number;
  min: number;
  max: number;
  /** Sample standard deviation (n − 1); 0 for fewer than two samples. */
  stddev: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

/** Nearest-rank percentile of sorted samples (`q` in 0..1): the smallest value with at least q of the samples at or below it. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarizeSamples(samples: ArrayLike<number>): SampleStats {
  const n = samples.length;
  if (n === 0) {
    return { count: 0, avg: 0, min: 0, max: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0 };
  }
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const avg = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i]! - avg) ** 2;
  return {
    count: n,
    avg,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    stddev: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
  };
}
