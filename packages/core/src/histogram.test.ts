import { describe, expect, it } from 'vitest';
import { WindowedHistogram } from './histogram.js';

describe('WindowedHistogram', () => {
  it('gives percentiles within the bucket precision', () => {
    const h = new WindowedHistogram(60_000);
    const now = 1_000_000;
    for (let v = 1; v <= 1000; v++) h.record(v, now);
    const s = h.snapshot(now);
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.avg).toBeCloseTo(500.5, 5);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.02);
    expect(Math.abs(s.p95 - 950) / 950).toBeLessThan(0.02);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.02);
  });

  it('forgets values older than the window', () => {
    const h = new WindowedHistogram(60_000, 6);
    h.record(5, 0);
    h.record(7, 30_000);
    expect(h.snapshot(30_000).count).toBe(2);
    const later = h.snapshot(65_000);
    expect(later.count).toBe(1);
    expect(later.max).toBe(7);
    expect(h.snapshot(200_000).count).toBe(0);
  });

  it('reuses a slot after the ring wraps, dropping what it held', () => {
    const h = new WindowedHistogram(60_000, 6);
    h.record(100, 0);
    h.record(1, 60_000); // same ring position, a new window
    const s = h.snapshot(60_000);
    expect(s.count).toBe(1);
    expect(s.max).toBe(1);
  });
});
