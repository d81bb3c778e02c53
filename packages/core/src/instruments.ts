import type { Attributes, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import {
  ATTR_FLOWGATE_OUTCOME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
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
  requests: RequestCounts;
}

/** Distinct attribute sets kept for `flowgate.requests`; past it, models fold into `_OTHER`. */
const MAX_SERIES = 1000;

/**
 * `flowgate.requests` counted in process and reported by an observable counter at collection time:
 * a Map increment per call instead of an SDK record (which hashes its attributes every time).
 */
export class RequestCounts {
  private readonly series = new Map<string, { attributes: Attributes; value: number }>();

  add(model: string, provider: string, outcome: string): void {
    let key = `${model}\u0000${provider}\u0000${outcome}`;
    let entry = this.series.get(key);
    if (!entry) {
      if (this.series.size >= MAX_SERIES) {
        model = '_OTHER';
        key = `${model}\u0000${provider}\u0000${outcome}`;
        entry = this.series.get(key);
      }
      if (!entry) {
        entry = {
          attributes: {
            [ATTR_GEN_AI_REQUEST_MODEL]: model,
            [ATTR_GEN_AI_PROVIDER_NAME]: provider,
            [ATTR_FLOWGATE_OUTCOME]: outcome,
          },
          value: 0,
        };
        this.series.set(key, entry);
      }
    }
    entry.value++;
  }

  observe = (result: ObservableResult<Attributes>): void => {
    for (const { attributes, value } of this.series.values()) result.observe(value, attributes);
  };
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
    requests: countRequests(meter),
  };
}

function countRequests(meter: Meter): RequestCounts {
  const counts = new RequestCounts();
  meter
    .createObservableCounter(METRIC_FLOWGATE_REQUESTS, {
      description: 'Calls through the gateway, by outcome',
      unit: '{request}',
    })
    .addCallback(counts.observe);
  return counts;
}
