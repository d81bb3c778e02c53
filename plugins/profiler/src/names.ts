/**
 * Metric and attribute names. Where the OpenTelemetry semantic conventions define a runtime metric
 * (V8: `v8js.*`, Node.js: `nodejs.eventloop.*`, process: `process.memory.usage`) it is used as is;
 * what they do not cover is under `flowgate.runtime.*`, `flowgate.leak.*` and `flowgate.profiler.*`.
 */

// OpenTelemetry semantic conventions (runtime metrics are "development" status; names as of 1.42+).
export const METRIC_V8JS_GC_DURATION = 'v8js.gc.duration';
export const METRIC_V8JS_MEMORY_HEAP_USED = 'v8js.memory.heap.used';
/** Renamed from `v8js.memory.heap.limit` in semconv 1.42. */
export const METRIC_V8JS_MEMORY_HEAP_SPACE_SIZE = 'v8js.memory.heap.space.size';
export const METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE = 'v8js.memory.heap.space.available_size';
export const METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE = 'v8js.memory.heap.space.physical_size';
export const ATTR_V8JS_GC_TYPE = 'v8js.gc.type';
export const ATTR_V8JS_HEAP_SPACE_NAME = 'v8js.heap.space.name';
export const METRIC_NODEJS_EVENTLOOP_DELAY_PREFIX = 'nodejs.eventloop.delay.';
export const METRIC_NODEJS_EVENTLOOP_UTILIZATION = 'nodejs.eventloop.utilization';
export const METRIC_NODEJS_EVENTLOOP_TIME = 'nodejs.eventloop.time';
export const ATTR_NODEJS_EVENTLOOP_STATE = 'nodejs.eventloop.state';
export const METRIC_PROCESS_MEMORY_USAGE = 'process.memory.usage';

// flowgate's own.
export const METRIC_HEAP_USED = 'flowgate.runtime.heap.used';
export const METRIC_HEAP_TOTAL = 'flowgate.runtime.heap.total';
export const METRIC_HEAP_LIMIT = 'flowgate.runtime.heap.limit';
export const METRIC_HEAP_AFTER_GC = 'flowgate.runtime.heap.after_gc';
export const METRIC_MEMORY_EXTERNAL = 'flowgate.runtime.memory.external';
export const METRIC_MEMORY_ARRAY_BUFFERS = 'flowgate.runtime.memory.array_buffers';
export const METRIC_LEAK_SUSPECTED = 'flowgate.leak.suspected';
export const METRIC_LEAK_GROWTH_RATE = 'flowgate.leak.growth_rate';

// Span attributes of a sampled call.
export const ATTR_PROFILER_SAMPLED = 'flowgate.profiler.sampled';
export const ATTR_PROFILER_HEAP_DELTA = 'flowgate.profiler.heap.delta_bytes';
export const ATTR_PROFILER_GC_COUNT = 'flowgate.profiler.gc.count';
export const ATTR_PROFILER_GC_PAUSE = 'flowgate.profiler.gc.pause_ms';

/**
 * Bucket boundaries of `v8js.gc.duration`, s. The conventions advise [0.01, 0.1, 1, 10]; most V8
 * pauses are well under 10 ms, so finer buckets are added below. Every advised boundary is kept,
 * so the convention's histogram can be rebuilt exactly from this one.
 */
export const GC_DURATION_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];
