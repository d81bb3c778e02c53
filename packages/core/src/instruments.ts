import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import {
  DURATION_BUCKETS_S,
  METRIC_FLOWGATE_REQUESTS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  TIME_TO_FIRST_CHUNK_BUCKETS_S,
  TOKEN_USAGE_BUCKETS,
} from './semconv.js';

/** The core's instruments, created once per gateway. */
export interface CoreInstruments {
  duration: Histogram<Attributes>;
  tokenUsage: Histogram<Attributes>;
  timeToFirstChunk: Histogram<Attributes>;
  requests: Counter<Attributes>;
}

export function createCoreInstruments(meter: Meter): CoreInstruments {
  return {
    duration: meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    tokenUsage: meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS },
    }),
    timeToFirstChunk: meter.createHistogram(METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK, {
      description: 'Time from the start of a streamed call to its first chunk',
      unit: 's',
      advice: { explicitBucketBoundaries: TIME_TO_FIRST_CHUNK_BUCKETS_S },
    }),
    requests: meter.createCounter(METRIC_FLOWGATE_REQUESTS, {
      description: 'Calls through the gateway, by outcome',
      unit: '{request}',
    }),
  };
}
