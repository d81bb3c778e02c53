import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import { createNoopMeter } from '@opentelemetry/api';
import { AggregatedGauge, AggregatedHistogram, type AggregatedInstrument, AggregatedSum } from './instruments.js';

/**
 * A Meter whose synchronous instruments aggregate in process (see AggregatingMeterProvider);
 * observable instruments are the SDK meter's own, since they cost nothing per call.
 */
export class AggregatingMeter implements Meter {
  /** By instrument name: creating one twice returns the first, as the SDK merges identical ones. */
  readonly instruments = new Map<string, AggregatedInstrument>();

  constructor(
    readonly scope: { name: string; version?: string; schemaUrl?: string },
    private readonly sdk: Meter,
  ) {}

  private instrument<T extends AggregatedInstrument>(name: string, make: () => T, kind: T['kind']): T {
    const known = this.instruments.get(name);
    if (known && known.kind === kind) return known as T;
    const created = make();
    // A second instrument under one name with another kind replaces nothing: it records apart, unexported.
    if (!known) this.instruments.set(name, created);
    return created;
  }

  createCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Counter<A> {
    return this.instrument(name, () => new AggregatedSum(name, options, true), 'sum');
  }

  createUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    return this.instrument(name, () => new AggregatedSum(name, options, false), 'sum');
  }

  createHistogram<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Histogram<A> {
    return this.instrument(name, () => new AggregatedHistogram(name, options), 'histogram');
  }

  createGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    return this.instrument(name, () => new AggregatedGauge(name, options), 'gauge');
  }

  createObservableGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this.sdk.createObservableGauge(name, options);
  }

  createObservableCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableCounter<A> {
    return this.sdk.createObservableCounter(name, options);
  }

  createObservableUpDownCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableUpDownCounter<A> {
    return this.sdk.createObservableUpDownCounter(name, options);
  }

  addBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this.sdk.addBatchObservableCallback(callback, observables);
  }

  removeBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this.sdk.removeBatchObservableCallback(callback, observables);
  }
}

const noopMeterProvider = (): MeterProvider => ({ getMeter: () => createNoopMeter() });

/**
 * A MeterProvider in front of the SDK's: counters, histograms and gauges are aggregated in
 * process, keyed by attribute set without the SDK's per-record sort-and-hash, and handed to the
 * SDK's readers at collection time by `AggregatedMetricProducer`. The exported data is the same
 * (cumulative sums, explicit-bucket histograms with the instrument's advice, last-value gauges);
 * what is given up is per-instrument SDK Views, which these instruments do not pass through.
 */
export class AggregatingMeterProvider implements MeterProvider {
  private readonly meters = new Map<string, AggregatingMeter>();
  private sdk: MeterProvider | undefined;

  /** `sdk` may be bound later (`bind`), before the first getMeter. */
  constructor(sdk?: MeterProvider) {
    this.sdk = sdk;
  }

  bind(sdk: MeterProvider): void {
    this.sdk = sdk;
  }

  getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    const id = `${name}\u0000${version ?? ''}\u0000${options?.schemaUrl ?? ''}`;
    let meter = this.meters.get(id);
    if (!meter) {
      meter = new AggregatingMeter(
        {
          name,
          ...(version !== undefined ? { version } : {}),
          ...(options?.schemaUrl !== undefined ? { schemaUrl: options.schemaUrl } : {}),
        },
        (this.sdk ?? noopMeterProvider()).getMeter(name, version, options),
      );
      this.meters.set(id, meter);
    }
    return meter;
  }

  /** Every meter handed out so far. */
  allMeters(): Iterable<AggregatingMeter> {
    return this.meters.values();
  }
}
