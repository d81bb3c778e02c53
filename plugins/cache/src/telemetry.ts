import { semconv } from '@flowgate/core';
import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type Observable,
} from '@opentelemetry/api';
import type { CacheResult, CacheSkipReason, CacheStore } from './types.js';

export const ATTR_CACHE_RESULT = 'flowgate.cache.result';
export const ATTR_CACHE_HIT = 'flowgate.cache.hit';
export const ATTR_CACHE_STORE = 'flowgate.cache.store';
export const ATTR_CACHE_REASON = 'flowgate.cache.reason';
export const ATTR_CACHE_OPERATION = 'flowgate.cache.operation';
export const ATTR_CACHE_KIND = 'flowgate.cache.kind';
export const ATTR_CACHE_AGE_MS = 'flowgate.cache.age_ms';

export const METRIC_CACHE_REQUESTS = 'flowgate.cache.requests';
export const METRIC_CACHE_ERRORS = 'flowgate.cache.errors';
export const METRIC_CACHE_STORES = 'flowgate.cache.stores';
export const METRIC_CACHE_LOOKUP_DURATION = 'flowgate.cache.lookup.duration';
export const METRIC_CACHE_TOKENS_SAVED = 'flowgate.cache.tokens_saved';
export const METRIC_CACHE_ENTRIES = 'flowgate.cache.entries';
export const METRIC_CACHE_BYTES = 'flowgate.cache.bytes';
export const METRIC_CACHE_EVICTIONS = 'flowgate.cache.evictions';

const LOOKUP_BUCKETS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
];
const NOOP_COUNTER = createNoopMeter().createCounter('noop');

/**
 * The plugin's instruments, created once per gateway in `setup`, with their attribute sets prebuilt and
 * frozen: one object per series, which a metrics SDK can recognise by identity instead of hashing it.
 */
export class CacheTelemetry {
  readonly on: boolean;
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly stores: Counter;
  private readonly tokensSaved: Counter;
  private readonly lookupDuration: Histogram;
  private readonly base: Attributes;
  private readonly resultAttrs = new Map<string, Attributes>();
  private readonly tokenAttrs: { input: Attributes; output: Attributes };
  private readonly observables: Observable[];
  private readonly observe: BatchObservableCallback | undefined;

  constructor(
    private readonly meter: Meter,
    store: CacheStore,
  ) {
    this.requests = meter.createCounter(METRIC_CACHE_REQUESTS, {
      description: 'Calls seen by the response cache, by result (hit, coalesced, miss, skip)',
      unit: '{request}',
    });
    // With no SDK the API hands out shared no-op instruments: then skip building attributes and timing.
    this.on = this.requests !== NOOP_COUNTER;
    this.errors = meter.createCounter(METRIC_CACHE_ERRORS, {
      description: 'Failed or timed-out cache store operations (calls went on as misses)',
      unit: '{error}',
    });
    this.stores = meter.createCounter(METRIC_CACHE_STORES, { description: 'Entries written', unit: '{entry}' });
    this.tokensSaved = meter.createCounter(METRIC_CACHE_TOKENS_SAVED, {
      description: 'Tokens that answers served by the cache did not spend again',
      unit: '{token}',
    });
    this.lookupDuration = meter.createHistogram(METRIC_CACHE_LOOKUP_DURATION, {
      description: 'Time to look an answer up in the store',
      unit: 's',
      advice: { explicitBucketBoundaries: LOOKUP_BUCKETS_S },
    });
    this.base = Object.freeze({ [ATTR_CACHE_STORE]: store.name });
    this.tokenAttrs = {
      input: Object.freeze({ ...this.base, [semconv.ATTR_GEN_AI_TOKEN_TYPE]: semconv.GEN_AI_TOKEN_TYPE_INPUT }),
      output: Object.freeze({ ...this.base, [semconv.ATTR_GEN_AI_TOKEN_TYPE]: semconv.GEN_AI_TOKEN_TYPE_OUTPUT }),
    };
    this.observables = [];
    if (typeof store.usage === 'function' && this.on) {
      const entries = meter.createObservableGauge(METRIC_CACHE_ENTRIES, {
        description: 'Entries held',
        unit: '{entry}',
      });
      const bytes = meter.createObservableGauge(METRIC_CACHE_BYTES, { description: 'Bytes held', unit: 'By' });
      const evictions = meter.createObservableCounter(METRIC_CACHE_EVICTIONS, {
        description: 'Entries evicted to stay within bounds',
        unit: '{entry}',
      });
      this.observables.push(entries, bytes, evictions);
      const attrs = this.base;
      this.observe = (result) => {
        let u: ReturnType<NonNullable<CacheStore['usage']>>;
        try {
          u = store.usage?.();
        } catch {
          return; // a closed or busy store reports nothing this round
        }
        if (!u) return;
        result.observe(entries, u.entries, attrs);
        result.observe(bytes, u.bytes, attrs);
        result.observe(evictions, u.evictions, attrs);
      };
      meter.addBatchObservableCallback(this.observe, this.observables);
    }
  }

  attrs(result: CacheResult, reason?: CacheSkipReason): Attributes {
    const k = reason === undefined ? result : `${result}/${reason}`;
    let a = this.resultAttrs.get(k);
    if (a === undefined) {
      a = Object.freeze(
        reason === undefined
          ? { ...this.base, [ATTR_CACHE_RESULT]: result }
          : { ...this.base, [ATTR_CACHE_RESULT]: result, [ATTR_CACHE_REASON]: reason },
      );
      this.resultAttrs.set(k, a);
    }
    return a;
  }

  request(result: CacheResult, reason?: CacheSkipReason): void {
    if (this.on) this.requests.add(1, this.attrs(result, reason));
  }

  lookup(seconds: number, result: CacheResult | 'error'): void {
    if (this.on) this.lookupDuration.record(seconds, this.attrs(result as CacheResult));
  }

  error(op: string, type: string): void {
    if (this.on) this.errors.add(1, { ...this.base, [ATTR_CACHE_OPERATION]: op, [semconv.ATTR_ERROR_TYPE]: type });
  }

  stored(): void {
    if (this.on) this.stores.add(1, this.base);
  }

  saved(input: number, output: number): void {
    if (!this.on) return;
    if (input > 0) this.tokensSaved.add(input, this.tokenAttrs.input);
    if (output > 0) this.tokensSaved.add(output, this.tokenAttrs.output);
  }

  dispose(): void {
    if (this.observe) this.meter.removeBatchObservableCallback(this.observe, this.observables);
  }
}
