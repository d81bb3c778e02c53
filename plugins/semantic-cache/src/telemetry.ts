import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api';
import type { SemanticResult } from './types.js';

export const ATTR_SEMANTIC_HIT = 'flowgate.semantic_cache.hit';
export const ATTR_SEMANTIC_RESULT = 'flowgate.semantic_cache.result';
export const ATTR_SEMANTIC_REASON = 'flowgate.semantic_cache.reason';
export const ATTR_SEMANTIC_SIMILARITY = 'flowgate.semantic_cache.similarity';
export const ATTR_SEMANTIC_CANDIDATES = 'flowgate.semantic_cache.candidates';
export const ATTR_SEMANTIC_OPERATION = 'flowgate.semantic_cache.operation';
export const ATTR_SEMANTIC_EMBEDDER = 'flowgate.semantic_cache.embedder';

export const METRIC_SEMANTIC_REQUESTS = 'flowgate.semantic_cache.requests';
export const METRIC_SEMANTIC_SIMILARITY = 'flowgate.semantic_cache.similarity';
export const METRIC_SEMANTIC_LOOKUP_DURATION = 'flowgate.semantic_cache.lookup.duration';
export const METRIC_SEMANTIC_EMBED_DURATION = 'flowgate.semantic_cache.embedding.duration';
export const METRIC_SEMANTIC_INDEX_SIZE = 'flowgate.semantic_cache.index.size';
export const METRIC_SEMANTIC_ERRORS = 'flowgate.semantic_cache.errors';

const SIMILARITY_BUCKETS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 1];
const LOOKUP_BUCKETS_S = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025];
const EMBED_BUCKETS_S = [0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const NOOP_COUNTER = createNoopMeter().createCounter('noop');

/** The plugin's instruments, created once per gateway in `setup`; attribute sets are built once. */
export class SemanticTelemetry {
  readonly on: boolean;
  private readonly requests: Counter;
  private readonly similarity: Histogram;
  private readonly lookupDuration: Histogram;
  private readonly embedDuration: Histogram;
  private readonly errors: Counter;
  private readonly size: ObservableGauge;
  private readonly attrs = new Map<string, Attributes>();
  private readonly embedAttrs: Attributes;
  private readonly observe: (r: ObservableResult) => void;

  constructor(meter: Meter, embedderId: string, indexSize: () => number) {
    this.requests = meter.createCounter(METRIC_SEMANTIC_REQUESTS, {
      description: 'Calls seen by the semantic cache, by result (hit, miss, guard_rejected, skip)',
      unit: '{request}',
    });
    this.on = this.requests !== NOOP_COUNTER;
    this.similarity = meter.createHistogram(METRIC_SEMANTIC_SIMILARITY, {
      description: 'Similarity of the cached question that answered a semantic hit',
      unit: '1',
      advice: { explicitBucketBoundaries: SIMILARITY_BUCKETS },
    });
    this.lookupDuration = meter.createHistogram(METRIC_SEMANTIC_LOOKUP_DURATION, {
      description: 'Vector search, guards and the store read of a semantic lookup (the embedding excluded)',
      unit: 's',
      advice: { explicitBucketBoundaries: LOOKUP_BUCKETS_S },
    });
    this.embedDuration = meter.createHistogram(METRIC_SEMANTIC_EMBED_DURATION, {
      description: 'Time to embed the question of a call',
      unit: 's',
      advice: { explicitBucketBoundaries: EMBED_BUCKETS_S },
    });
    this.errors = meter.createCounter(METRIC_SEMANTIC_ERRORS, {
      description: 'Failures of the semantic cache (embedder, store read, index file); never fail a call',
      unit: '{error}',
    });
    this.size = meter.createObservableGauge(METRIC_SEMANTIC_INDEX_SIZE, {
      description: 'Questions in the semantic index',
      unit: '{entry}',
    });
    this.embedAttrs = { [ATTR_SEMANTIC_EMBEDDER]: embedderId };
    this.observe = (r) => r.observe(indexSize(), this.embedAttrs);
    this.size.addCallback(this.observe);
  }

  private attributes(result: SemanticResult, reason: string | undefined): Attributes {
    const k = `${result}|${reason ?? ''}`;
    let a = this.attrs.get(k);
    if (a === undefined) {
      a = { [ATTR_SEMANTIC_RESULT]: result };
      if (reason !== undefined && result !== 'hit' && result !== 'miss') a[ATTR_SEMANTIC_REASON] = reason;
      this.attrs.set(k, a);
    }
    return a;
  }

  request(result: SemanticResult, reason?: string): void {
    if (this.on) this.requests.add(1, this.attributes(result, reason));
  }

  hit(similarity: number): void {
    if (this.on) this.similarity.record(similarity);
  }

  lookup(seconds: number, result: SemanticResult): void {
    if (this.on) this.lookupDuration.record(seconds, this.attributes(result, undefined));
  }

  embedded(seconds: number): void {
    if (this.on) this.embedDuration.record(seconds, this.embedAttrs);
  }

  error(operation: 'embed' | 'get' | 'save' | 'load', type: string): void {
    if (this.on) this.errors.add(1, { [ATTR_SEMANTIC_OPERATION]: operation, 'error.type': type });
  }

  dispose(): void {
    this.size.removeCallback(this.observe);
  }
}
