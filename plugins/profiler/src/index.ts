export { type BenchmarkOptions, type BenchmarkResult, benchmark } from './benchmark.js';
export type { CallProfile, CallProfileReport, OperationProfile } from './call-attribution.js';
export { type CpuProfileOptions, type CpuProfileResult, cpuProfile } from './cpu-profile.js';
export { type CpuProfileData, type CpuProfileNode, type FunctionTime, topFunctions } from './cpu-profile-summary.js';
export { PROFILER_ERROR_CODE, ProfilerError } from './errors.js';
export { formatSnapshot } from './format.js';
export type { GcType } from './gc-types.js';
export { type HeapSnapshotOptions, heapSnapshot } from './heap-snapshot.js';
export {
  LeakDetector,
  type LeakEvent,
  type LeakStatus,
  type LeakWatchOptions,
  type LeakWindow,
} from './leak-detector.js';
export * as profilerNames from './names.js';
export { DEFAULT_OUTPUT_DIR } from './output.js';
export { type ProfileResult, profile } from './profile.js';
export { type LeakListener, type ProfilerOptions, type ProfilerPlugin, profiler } from './profiler.js';
export {
  type FlagAdvice,
  type HeapFlags,
  type Recommendation,
  type RuntimeObservation,
  recommendFlags,
  WORKLOAD_PRESETS,
  type WorkloadPreset,
} from './recommendations.js';
export type { GcPauseStats, RuntimeSnapshot } from './runtime.js';
export { type SampleStats, summarizeSamples } from './stats.js';
