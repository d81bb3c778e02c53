import type { PerformanceEntry } from 'node:perf_hooks';

/**
 * GC types as the OpenTelemetry V8 conventions name them (`v8js.gc.type`):
 * `minor` = scavenge (or minor mark-sweep), `major` = mark-sweep-compact, `incremental` = a step of
 * incremental marking, `weakcb` = processing of weak callbacks.
 */
export type GcType = 'minor' | 'major' | 'incremental' | 'weakcb';

export const GC_TYPES: readonly GcType[] = ['minor', 'major', 'incremental', 'weakcb'];

// perf_hooks `constants.NODE_PERFORMANCE_GC_*`: the `kind` of a 'gc' entry.
const MINOR = 1;
const MINOR_MARK_SWEEP = 2;
const MAJOR = 4;
const INCREMENTAL = 8;
const WEAKCB = 16;

export function gcTypeOf(entry: PerformanceEntry): GcType | undefined {
  // A 'gc' entry carries `detail: { kind, flags }` (the type declarations leave it out).
  switch ((entry as { detail?: { kind?: number } }).detail?.kind) {
    case MINOR:
    case MINOR_MARK_SWEEP:
      return 'minor';
    case MAJOR:
      return 'major';
    case INCREMENTAL:
      return 'incremental';
    case WEAKCB:
      return 'weakcb';
    default:
      return undefined;
  }
}

export interface GcTotals {
  /** Collections seen. */
  count: number;
  /** Sum of their pauses, in ms. */
  timeMs: number;
  byType: Record<GcType, { count: number; timeMs: number }>;
}

export function emptyTotals(): GcTotals {
  return {
    count: 0,
    timeMs: 0,
    byType: {
      minor: { count: 0, timeMs: 0 },
      major: { count: 0, timeMs: 0 },
      incremental: { count: 0, timeMs: 0 },
      weakcb: { count: 0, timeMs: 0 },
    },
  };
}
