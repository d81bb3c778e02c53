import { totalmem } from 'node:os';

/** What a process is tuned for; each preset turns the observed GC behaviour into Node/V8 flags. */
export type WorkloadPreset = 'throughput' | 'latency' | 'memory';

export const WORKLOAD_PRESETS: Readonly<Record<WorkloadPreset, string>> = {
  throughput: 'most work per CPU second: fewer young-generation collections, room for the old generation',
  latency: 'short, predictable pauses: bounded scavenges, headroom so that full GCs stay incremental',
  memory: 'smallest footprint: a small young generation and an old generation capped near the live data',
};

/** What the profiler saw of the process; the input of {@link recommendFlags}. */
export interface RuntimeObservation {
  /** How long the process was watched, ms. */
  observedMs: number;
  /** Scavenges (minor GCs): count and total pause since start, p99 pause over the recent window. */
  minorGcs: { count: number; timeMs: number; p99Ms: number };
  /** Mark-sweep-compact (major GCs), likewise. */
  majorGcs: { count: number; timeMs: number; p99Ms: number };
  heapUsedBytes: number;
  heapLimitBytes: number;
  /** Largest used heap read after a major GC (the live data); undefined until one was seen. */
  liveHeapBytes: number | undefined;
  /** Current size of the young generation (`new_space`), bytes. */
  newSpaceBytes: number;
  /** Memory the process may use: the cgroup limit when there is one, else physical memory. */
  memoryBytes: number;
  /** Heap flags the process was started with (command line and NODE_OPTIONS). */
  flags: HeapFlags;
}

export interface HeapFlags {
  maxSemiSpaceMb?: number;
  maxOldSpaceMb?: number;
  optimizeForSize?: boolean;
}

export interface FlagAdvice {
  /** For example `--max-semi-space-size`. */
  flag: string;
  /** The value to give it (MiB for sizes); undefined for a switch. */
  value: number | undefined;
  /** Why, from what was observed. */
  reason: string;
}

export interface Recommendation {
  preset: WorkloadPreset;
  goal: string;
  /** Flags to start the process with. Empty when nothing observed calls for a change. */
  flags: FlagAdvice[];
  /** The flags as one string for `NODE_OPTIONS` or the command line ('' when there are none). */
  nodeOptions: string;
  /** Findings that are not a flag (and why a flag was not recommended). */
  notes: string[];
  observed: RuntimeObservation;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;
const pct = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;
const roundUp = (mb: number, step: number) => Math.ceil(mb / step) * step;

/** What the rules read, derived once from the observation. */
interface Facts {
  o: RuntimeObservation;
  scavengesPerMin: number;
  scavengeShare: number;
  /** The semi-space in use, MiB; undefined when it is V8's default and that is not knowable. */
  semi: number | undefined;
  /** "a 64 MiB semi-space", "the default 16 MiB semi-space", ... */
  semiText: string;
  /** "600 scavenges/min taking 0.50% of wall time (p99 pause 1.50 ms)" */
  scavenges: string;
  flags: FlagAdvice[];
  notes: string[];
}

/**
 * Recommends V8 heap flags for a workload preset from what was observed. V8 fixes its heap
 * configuration when the process starts: these are flags for the next start (NODE_OPTIONS),
 * never something applied to the running process.
 */
export function recommendFlags(o: RuntimeObservation, preset: WorkloadPreset): Recommendation {
  const observedMs = Math.max(o.observedMs, 1);
  const scavengesPerMin = o.minorGcs.count / (observedMs / 60_000);
  const scavengeShare = o.minorGcs.timeMs / observedMs;
  const explicit = o.flags.maxSemiSpaceMb;
  // Unset, V8 derives it from the heap limit: 16 MiB on 64-bit above a 2 GiB limit, less below
  // (Node's --max-semi-space-size docs); below that the exact default is not knowable from here.
  const semi = explicit ?? (o.heapLimitBytes > 2048 * MiB ? 16 : undefined);
  const f: Facts = {
    o,
    scavengesPerMin,
    scavengeShare,
    semi,
    semiText:
      explicit !== undefined
        ? `a ${explicit} MiB semi-space`
        : semi !== undefined
          ? `the default ${semi} MiB semi-space`
          : 'the default semi-space (under 16 MiB at this heap limit)',
    scavenges: `${scavengesPerMin.toFixed(0)} scavenges/min taking ${pct(scavengeShare)} of wall time (p99 pause ${o.minorGcs.p99Ms.toFixed(2)} ms)`,
    flags: [],
    notes: [],
  };
  if (o.observedMs < 60_000 || o.minorGcs.count < 10) {
    f.notes.push(
      `Observed for ${(o.observedMs / 1000).toFixed(0)} s and ${o.minorGcs.count} scavenges only: run representative load for a few minutes before acting on this.`,
    );
  }
  if (preset === 'throughput') throughput(f);
  else if (preset === 'latency') latency(f);
  else memory(f);
  const majorShare = o.majorGcs.timeMs / observedMs;
  if (majorShare >= 0.02) {
    f.notes.push(
      `Major GCs take ${pct(majorShare)} of wall time: the live data is large or keeps changing (caches, buffers kept in JS objects).`,
    );
  }
  return {
    preset,
    goal: WORKLOAD_PRESETS[preset],
    flags: f.flags,
    nodeOptions: f.flags.map((x) => (x.value === undefined ? x.flag : `${x.flag}=${x.value}`)).join(' '),
    notes: f.notes,
    observed: o,
  };
}

function throughput(f: Facts): void {
  if (f.scavengesPerMin >= 60 || f.scavengeShare >= 0.01) {
    if (f.semi !== undefined && f.semi >= 128) {
      f.notes.push(
        `${f.scavenges} with ${f.semiText} already: the allocation rate itself is the cost; profile allocations (cpuProfile, heapSnapshot).`,
      );
    } else {
      const target = (f.semi ?? 16) >= 64 ? 128 : 64;
      f.flags.push({
        flag: '--max-semi-space-size',
        value: target,
        reason: `${f.scavenges} with ${f.semiText}. A scavenge costs in proportion to what survives, not to the garbage, so a larger semi-space gives fewer scavenges at about the same cost each, and short-lived request data dies before it is ever copied. The young generation is three semi-spaces: this costs up to 3 × ${target - (f.semi ?? 0)} MiB more memory.`,
      });
    }
  } else {
    f.notes.push(`Young generation: ${f.scavenges}; it is big enough for this load.`);
  }
  oldSpace(
    f,
    2,
    'V8 collects the old generation more often the closer it gets to the limit, and the process dies with "heap out of memory" at it.',
  );
}

function latency(f: Facts): void {
  const { o } = f;
  if (o.minorGcs.p99Ms >= 5) {
    if (f.semi !== undefined && f.semi > 16) {
      f.flags.push({
        flag: '--max-semi-space-size',
        value: 16,
        reason: `${f.scavenges} with ${f.semiText}. Every scavenge stops the process while it copies the survivors, and a large semi-space lets more of them pile up: back to 16 MiB bounds each pause (at the cost of more of them).`,
      });
    } else {
      f.notes.push(
        `${f.scavenges} with ${f.semiText}: long because many objects survive each scavenge, not because the young generation is large; keep less per-request data alive across awaits (buffered bodies, large parsed JSON). A smaller semi-space would only make them more frequent.`,
      );
    }
  } else if (f.scavengesPerMin >= 120 && o.minorGcs.p99Ms < 2 && (f.semi === undefined || f.semi < 32)) {
    f.flags.push({
      flag: '--max-semi-space-size',
      value: 32,
      reason: `${f.scavenges} with ${f.semiText}: short but frequent, and each one lands on some request. A 32 MiB semi-space makes them rarer while keeping each short.`,
    });
  } else {
    f.notes.push(`Young generation: ${f.scavenges}; no change needed for latency.`);
  }
  oldSpace(
    f,
    3,
    'Near the limit V8 collects more often and more aggressively (memory-reducing full GCs), which shows as tail latency; a live heap under a third of the limit leaves room for incremental and concurrent marking.',
  );
  if (o.majorGcs.p99Ms >= 50) {
    f.notes.push(
      `Major GC pauses reach ${o.majorGcs.p99Ms.toFixed(1)} ms at p99: their final pause grows with the live data; keep large caches out of the JS heap (Redis, Buffers) or smaller.`,
    );
  }
}

function memory(f: Facts): void {
  const { o } = f;
  if (f.semi !== undefined && f.semi > 8) {
    f.flags.push({
      flag: '--max-semi-space-size',
      value: 8,
      reason: `The young generation is three semi-spaces: going from ${f.semi} to 8 MiB saves up to ${3 * (f.semi - 8)} MiB, at the cost of more scavenges (now ${f.scavenges}).`,
    });
    if (f.scavengeShare >= 0.05) {
      f.notes.push(
        `Scavenges already take ${pct(f.scavengeShare)} of wall time: a smaller young generation will cost CPU.`,
      );
    }
  } else if (f.semi === undefined) {
    f.notes.push('At this heap limit the default semi-space is already under 16 MiB: no --max-semi-space-size needed.');
  }
  if (o.liveHeapBytes === undefined) {
    f.notes.push('No major GC seen yet, so the live heap is unknown: --max-old-space-size cannot be sized safely.');
  } else {
    const target = Math.max(64, roundUp((o.liveHeapBytes * 1.5) / MiB, 32));
    if (target < o.heapLimitBytes / MiB) {
      f.flags.push({
        flag: '--max-old-space-size',
        value: target,
        reason: `Peak live heap after GC was ${mib(o.liveHeapBytes)}; capping the old generation near 1.5 × that makes V8 collect before it grows the heap. Watch for growth: below the live size the process dies with "heap out of memory".`,
      });
    }
  }
  if (!o.flags.optimizeForSize) {
    f.flags.push({
      flag: '--optimize-for-size',
      value: undefined,
      reason: 'V8 then favours a smaller heap and less generated code over speed.',
    });
  }
}

/** Raises --max-old-space-size to `factor` × the live heap when the limit is lower, within 75% of memory. */
function oldSpace(f: Facts, factor: number, why: string): void {
  const { o } = f;
  const live = o.liveHeapBytes ?? o.heapUsedBytes;
  if (live * factor <= o.heapLimitBytes) return;
  const wanted = roundUp((live * factor) / MiB, 64);
  const ceiling = Math.floor(((o.memoryBytes / MiB) * 0.75) / 64) * 64;
  const target = Math.min(wanted, ceiling);
  if (target <= o.heapLimitBytes / MiB) {
    f.notes.push(
      `The live heap (${mib(live)}) is large for the ${mib(o.heapLimitBytes)} limit, and memory (${mib(o.memoryBytes)}) leaves no room to raise it: reduce what the process keeps in memory.`,
    );
    return;
  }
  f.flags.push({
    flag: '--max-old-space-size',
    value: target,
    reason: `${o.liveHeapBytes === undefined ? 'Used heap (no major GC seen yet)' : 'Live heap after GC'} is ${mib(live)}, ${pct(live / o.heapLimitBytes)} of the ${mib(o.heapLimitBytes)} limit. ${why}`,
  });
}

/** Heap flags from the command line and NODE_OPTIONS (either spelling: dashes or underscores). */
export function readHeapFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): HeapFlags {
  const text = `${execArgv.join(' ')} ${nodeOptions ?? ''}`;
  const size = (name: string) => {
    const m = new RegExp(`--${name}[= ](\\d+)`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const flags: HeapFlags = {};
  const semi = size('max[-_]semi[-_]space[-_]size');
  const old = size('max[-_]old[-_]space[-_]size');
  if (semi !== undefined) flags.maxSemiSpaceMb = semi;
  if (old !== undefined) flags.maxOldSpaceMb = old;
  if (/--optimize[-_]for[-_]size\b/.test(text)) flags.optimizeForSize = true;
  return flags;
}

/** Memory the process may use: its cgroup limit when set (containers), else physical memory. */
export function availableMemory(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}
