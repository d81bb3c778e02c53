/**
 * A sliding-window latency histogram with bounded memory: log-spaced buckets (about 1% relative
 * error) in a ring of time slots. Recording is O(1); a snapshot merges the live slots.
 */

const MIN_VALUE = 0.001; // ms
const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
const BUCKETS = Math.ceil(Math.log(1e7 / MIN_VALUE) / LOG_GAMMA) + 1; // up to ~2.7 hours in ms

export interface Summary {
  count: number;
  avg: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

interface Slot {
  start: number;
  counts: Uint32Array;
  count: number;
  sum: number;
  min: number;
  max: number;
}

function bucketOf(v: number): number {
  if (v <= MIN_VALUE) return 0;
  const i = Math.ceil(Math.log(v / MIN_VALUE) / LOG_GAMMA);
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** Representative value of a bucket: the midpoint of its bounds. */
function bucketValue(i: number): number {
  if (i === 0) return MIN_VALUE;
  return (MIN_VALUE * (GAMMA ** (i - 1) + GAMMA ** i)) / 2;
}

export class WindowedHistogram {
  private readonly slots: Slot[];
  private readonly slotMs: number;

  /** `windowMs` is split into `slotCount` slots; data older than the window is dropped slot by slot. */
  constructor(
    readonly windowMs = 60_000,
    slotCount = 6,
  ) {
    this.slotMs = Math.ceil(windowMs / slotCount);
    this.slots = Array.from({ length: slotCount }, () => ({
      start: -Infinity,
      counts: new Uint32Array(BUCKETS),
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
    }));
  }

  private slotFor(now: number): Slot {
    const start = now - (now % this.slotMs);
    const slot = this.slots[Math.floor(now / this.slotMs) % this.slots.length]!;
    if (slot.start !== start) {
      slot.start = start;
      slot.counts.fill(0);
      slot.count = 0;
      slot.sum = 0;
      slot.min = Infinity;
      slot.max = -Infinity;
    }
    return slot;
  }

  record(valueMs: number, now = Date.now()): void {
    const slot = this.slotFor(now);
    const idx = bucketOf(valueMs);
    slot.counts[idx] = slot.counts[idx]! + 1;
    slot.count++;
    slot.sum += valueMs;
    if (valueMs < slot.min) slot.min = valueMs;
    if (valueMs > slot.max) slot.max = valueMs;
  }

  snapshot(now = Date.now()): Summary {
    const oldest = now - this.windowMs;
    const live = this.slots.filter((s) => s.start > oldest && s.count > 0);
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const s of live) {
      count += s.count;
      sum += s.sum;
      if (s.min < min) min = s.min;
      if (s.max > max) max = s.max;
    }
    if (count === 0) return { count: 0, avg: 0, min: 0, max: 0, p50: 0, p95: 0, p99: 0 };
    const targets = [0.5, 0.95, 0.99].map((q) => Math.max(1, Math.ceil(q * count)));
    const out = [0, 0, 0];
    let seen = 0;
    let t = 0;
    for (let i = 0; i < BUCKETS && t < targets.length; i++) {
      for (const s of live) seen += s.counts[i]!;
      while (t < targets.length && seen >= targets[t]!) {
        out[t] = Math.min(max, Math.max(min, bucketValue(i)));
        t++;
      }
    }
    return { count, avg: sum / count, min, max, p50: out[0]!, p95: out[1]!, p99: out[2]! };
  }
}
