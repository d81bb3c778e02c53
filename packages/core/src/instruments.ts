import type { Attributes, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_FLOWGATE_OUTCOME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DURATION_BUCKETS_S,
  GEN_AI_OPERATION_CHAT,
  METRIC_FLOWGATE_REQUESTS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  TIME_TO_FIRST_CHUNK_BUCKETS_S,
  TOKEN_USAGE_BUCKETS,
} from './semconv.js';
import { TupleMap } from './tuple-map.js';

/** The core's instruments, created once per gateway. */
export interface CoreInstruments {
  duration: Histogram<Attributes>;
  tokenUsage: Histogram<Attributes>;
  timeToFirstChunk: Histogram<Attributes>;
  requests: RequestCounts;
  attributeSets: CallAttributeSets;
}

/** Distinct attribute sets kept for `flowgate.requests`; past it, models fold into `_OTHER`. */
const MAX_SERIES = 1000;

/**
 * `flowgate.requests` counted in process and reported by an observable counter at collection time:
 * a Map increment per call instead of an SDK record (which hashes its attributes every time).
 */
export class RequestCounts {
  private readonly series = new TupleMap<{ attributes: Attributes; value: number }>();

  add(model: string, provider: string, outcome: string): void {
    let entry = this.series.get(model, provider, outcome);
    if (!entry) {
      if (this.series.size >= MAX_SERIES) {
        model = '_OTHER';
        entry = this.series.get(model, provider, outcome);
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
        this.series.set(entry, model, provider, outcome);
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
    attributeSets: new CallAttributeSets(),
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

/** What the attribute sets read of a provider. */
type CallProvider = { id: string; system: string; address?: { host: string; port: number } };

/** The attribute sets of one call's metrics: the operation's, and the token usage's by type. */
export interface CallAttributes {
  readonly base: Attributes;
  readonly input: Attributes;
  readonly output: Attributes;
}

/**
 * Frozen attribute sets per (model, provider, response model or error type), built once: a
 * pre-aggregating meter (see @flowgate/telemetry) finds a frozen set's series by identity, and the
 * SDK's meter at least gets no new objects per call. Past MAX_SERIES sets, sets are built per call.
 */
export class CallAttributeSets {
  /** By model, provider, response model, error type. */
  private readonly sets = new TupleMap<CallAttributes>();

  get(
    model: string,
    provider: CallProvider | undefined,
    responseModel: string | undefined,
    errorType: string | undefined,
  ): CallAttributes {
    const known = this.sets.get(model, provider, responseModel, errorType);
    if (known) return known;
    const base: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_CHAT,
      [ATTR_GEN_AI_REQUEST_MODEL]: model,
    };
    if (provider) {
      base[ATTR_GEN_AI_PROVIDER_NAME] = provider.system;
      if (provider.address) {
        base[ATTR_SERVER_ADDRESS] = provider.address.host;
        base[ATTR_SERVER_PORT] = provider.address.port;
      }
    }
    if (responseModel !== undefined) base[ATTR_GEN_AI_RESPONSE_MODEL] = responseModel;
    if (errorType !== undefined) base[ATTR_ERROR_TYPE] = errorType;
    const sets: CallAttributes = {
      base: Object.freeze(base),
      input: Object.freeze({ ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'input' }),
      output: Object.freeze({ ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'output' }),
    };
    if (this.sets.size < MAX_SERIES) this.sets.set(sets, model, provider, responseModel, errorType);
    return sets;
  }
}
