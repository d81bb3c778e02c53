import { ConfigError, type Plugin, type PluginHost } from '@flowgate/core';
import { diag } from '@opentelemetry/api';
import { type BenchmarkOptions, type BenchmarkResult, benchmark } from './benchmark.js';
import type { CallProfileReport } from './call-attribution.js';
import { type CpuProfileOptions, type CpuProfileResult, cpuProfile } from './cpu-profile.js';
import { checkNumber, ProfilerError } from './errors.js';
import { type HeapSnapshotOptions, heapSnapshot } from './heap-snapshot.js';
import { type LeakEvent, type LeakStatus, type LeakWatchOptions, resolveLeakOptions } from './leak-detector.js';
import { checkDir } from './output.js';
import { type ProfileResult, profile } from './profile.js';
import { type Recommendation, recommendFlags, WORKLOAD_PRESETS, type WorkloadPreset } from './recommendations.js';
import { Runtime, type RuntimeSnapshot } from './runtime.js';

export interface ProfilerOptions {
  /** Share of calls measured for per-call attribution, 0..1; default 0.1. `CallOptions.profile` overrides it per call. */
  sampleRate?: number;
  /** Sampling interval of the event-loop delay monitor, ms; default 20. */
  eventLoopResolutionMs?: number;
  /** Span of the GC pause percentiles in `snapshot()`, ms; default 60 000. */
  gcWindowMs?: number;
  /** Where profiles and heap snapshots go; default `<os tmpdir>/flowgate-profiles`. */
  outputDir?: string;
  /** Preset of `recommendations()` when none is given; default 'throughput'. */
  preset?: WorkloadPreset;
  /** Leak watch settings, or `false` to turn it off; on by default. */
  leak?: LeakWatchOptions | false;
}

export type LeakListener = (event: LeakEvent) => void;

/** The plugin object: install it in a gateway, then read it, profile with it, listen to it. */
export interface ProfilerPlugin extends Plugin {
  readonly name: 'profiler';
  /** GC pause percentiles, heap, memory and event-loop delay now. Needs the plugin installed. */
  snapshot(): RuntimeSnapshot;
  /** Per operation and model aggregates of the sampled calls. Needs the plugin installed. */
  report(): CallProfileReport;
  /** Node/V8 flags for a workload preset, from what was observed so far. Needs the plugin installed. */
  recommendations(preset?: WorkloadPreset): Recommendation;
  /** Closes the current leak-watch window now and evaluates it (the watch does this every `leak.windowMs`). */
  checkLeaks(): Promise<LeakStatus>;
  /** Listens for suspected leaks. */
  on(event: 'leak', listener: LeakListener): this;
  off(event: 'leak', listener: LeakListener): this;
  /** The standalone profiling functions, writing into `outputDir`. These work installed or not. */
  profile<T>(name: string, fn: () => T | Promise<T>): Promise<ProfileResult<T>>;
  cpuProfile<T = undefined>(
    name: string,
    target: (() => T | Promise<T>) | number,
    options?: CpuProfileOptions,
  ): Promise<CpuProfileResult<T>>;
  heapSnapshot(options?: HeapSnapshotOptions): Promise<string>;
  benchmark(name: string, fn: () => unknown, options?: BenchmarkOptions): Promise<BenchmarkResult>;
}

/**
 * GC, heap and event-loop metrics, per-call heap/GC attribution, a leak watch, profiling helpers
 * and V8 flag recommendations. Install it first to attribute the whole call (the first plugin's
 * middleware is the outermost), or later to measure only the part inside it.
 *
 * @example
 * const prof = profiler({ sampleRate: 0.05 });
 * const gateway = createGateway({ providers, plugins: [prof] });
 * prof.on('leak', (e) => log.warn(`heap grows ${e.bytesPerMinute} B/min`, e.snapshotPath));
 * console.log(prof.snapshot().gc.p99Ms);
 */
export function profiler(options: ProfilerOptions = {}): ProfilerPlugin {
  const sampleRate = checkNumber(options.sampleRate, 'sampleRate', 0.1, { min: 0, max: 1 });
  const eventLoopResolutionMs = checkNumber(options.eventLoopResolutionMs, 'eventLoopResolutionMs', 20, {
    integer: true,
    min: 1,
  });
  const gcWindowMs = checkNumber(options.gcWindowMs, 'gcWindowMs', 60_000, { min: 1000 });
  const outputDir = checkDir(options.outputDir);
  const preset = checkPreset(options.preset ?? 'throughput');
  if (options.leak !== undefined && options.leak !== false && (typeof options.leak !== 'object' || !options.leak)) {
    throw new ConfigError('profiler: `leak` must be an options object or false');
  }
  const leak = options.leak === false ? undefined : resolveLeakOptions(options.leak ?? {});

  const listeners = new Set<LeakListener>();
  const raise = (event: LeakEvent) => {
    const all: LeakListener[] = leak?.onLeak ? [leak.onLeak, ...listeners] : [...listeners];
    for (const l of all) {
      try {
        l(event);
      } catch (err) {
        diag.error('flowgate profiler: a leak listener threw', err);
      }
    }
  };
  let runtime: Runtime | undefined;
  const installed = (what: string): Runtime => {
    if (!runtime) {
      throw new ProfilerError(
        `profiler: ${what} needs the plugin installed in a gateway (createGateway({ plugins: [profiler()] }))`,
      );
    }
    return runtime;
  };

  const plugin: ProfilerPlugin = {
    name: 'profiler',
    setup(host: PluginHost) {
      if (runtime && !runtime.stopped) {
        throw new ConfigError(
          'profiler: this profiler() is already installed in a running gateway; create one per gateway',
        );
      }
      const rt = new Runtime(host.meter, { sampleRate, eventLoopResolutionMs, gcWindowMs, outputDir, leak }, raise);
      runtime = rt;
      host.useCall(rt.attribution.middleware);
      host.onClose(() => rt.stop());
    },
    snapshot: () => installed('snapshot()').snapshot(),
    report: () => installed('report()').attribution.report(),
    recommendations: (p = preset) => recommendFlags(installed('recommendations()').observation(), checkPreset(p)),
    checkLeaks: async () => {
      const rt = installed('checkLeaks()');
      if (!rt.leak)
        throw new ProfilerError('profiler: checkLeaks() needs the leak watch, which is turned off (`leak: false`)');
      return rt.leak.check();
    },
    on(event, listener) {
      checkLeakEvent(event, listener);
      listeners.add(listener);
      return this;
    },
    off(event, listener) {
      checkLeakEvent(event, listener);
      listeners.delete(listener);
      return this;
    },
    profile: (name, fn) => profile(name, fn),
    cpuProfile: (name, target, o) => cpuProfile(name, target, { dir: outputDir, ...o }),
    heapSnapshot: (o) => heapSnapshot({ dir: outputDir, ...o }),
    benchmark: (name, fn, o) => benchmark(name, fn, o),
  };
  return plugin;
}

function checkPreset(p: unknown): WorkloadPreset {
  if (typeof p === 'string' && Object.hasOwn(WORKLOAD_PRESETS, p)) return p as WorkloadPreset;
  throw new ConfigError(
    `profiler: unknown workload preset ${JSON.stringify(p)}; use ${Object.keys(WORKLOAD_PRESETS).join(', ')}`,
  );
}

function checkLeakEvent(event: unknown, listener: unknown): void {
  if (event !== 'leak')
    throw new ConfigError(`profiler: unknown event ${JSON.stringify(event)}; the only event is 'leak'`);
  if (typeof listener !== 'function') throw new ConfigError('profiler: a leak listener must be a function');
}
