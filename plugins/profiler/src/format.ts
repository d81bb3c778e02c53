import type { RuntimeSnapshot } from './runtime.js';

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

/**
 * One line for logs and the quickstart:
 * `GC p99 1.20 ms (42 in 60 s) · heap 38.2 MB / 4288.0 MB · event-loop delay p99 0.35 ms (max 2.10 ms) · ELU 12%`
 */
export function formatSnapshot(s: RuntimeSnapshot): string {
  return [
    `GC p99 ${ms(s.gc.p99Ms)} (${s.gc.count} in ${Math.round(s.gc.windowMs / 1000)} s)`,
    `heap ${mb(s.heap.usedBytes)} / ${mb(s.heap.limitBytes)}`,
    `event-loop delay p99 ${ms(s.eventLoop.delayP99Ms)} (max ${ms(s.eventLoop.delayMaxMs)})`,
    `ELU ${Math.round(s.eventLoop.utilization * 100)}%`,
  ].join(' · ');
}
