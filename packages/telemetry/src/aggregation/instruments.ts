import {
  type Attributes,
  type Counter,
  diag,
  type Gauge,
  type Histogram,
  type MetricOptions,
  type UpDownCounter,
  ValueType,
} from '@opentelemetry/api';
import { SeriesTable } from './series-table.js';

/** The SDK's default explicit buckets, used when an instrument gives no advice. */
export const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

export interface InstrumentDescriptor {
  name: string;
  description: string;
  unit: string;
  valueType: ValueType;
}

function describe(name: string, options: MetricOptions | undefined): InstrumentDescriptor {
  return {
    name,
    description: options?.description ?? '',
    unit: options?.unit ?? '',
    valueType: options?.valueType ?? ValueType.DOUBLE,
  };
}

/** A value the SDK would accept, truncated as the SDK does for INT instruments; undefined = dropped. */
function accept(d: InstrumentDescriptor, value: number, nonNegative: boolean): number | undefined {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    diag.warn(`non-number value provided to metric ${d.name}: ${value}`);
    return undefined;
  }
  if (nonNegative && value < 0) {
    diag.warn(`negative value provided to ${d.name}: ${value}`);
    return undefined;
  }
  return d.valueType === ValueType.INT ? Math.trunc(value) : value;
}

export interface SumSeries {
  value: number;
  start: number;
}

/** Counter and up-down counter: a running sum per series (cumulative). */
export class AggregatedSum implements Counter<Attributes>, UpDownCounter<Attributes> {
  readonly kind = 'sum';
  readonly descriptor: InstrumentDescriptor;
  readonly series = new SeriesTable<SumSeries>(() => ({ value: 0, start: Date.now() }));

  constructor(
    name: string,
    options: MetricOptions | undefined,
    readonly monotonic: boolean,
  ) {
    this.descriptor = describe(name, options);
  }

  add(value: number, attributes?: Attributes): void {
    const v = accept(this.descriptor, value, this.monotonic);
    if (v !== undefined) this.series.get(attributes).value += v;
  }
}

export interface GaugeSeries {
  value: number;
  start: number;
}

/** Synchronous gauge: the last value per series. */
export class AggregatedGauge implements Gauge<Attributes> {
  readonly kind = 'gauge';
  readonly descriptor: InstrumentDescriptor;
  readonly series = new SeriesTable<GaugeSeries>(() => ({ value: 0, start: Date.now() }));

  constructor(name: string, options: MetricOptions | undefined) {
    this.descriptor = describe(name, options);
  }

  record(value: number, attributes?: Attributes): void {
    const v = accept(this.descriptor, value, false);
    if (v !== undefined) this.series.get(attributes).value = v;
  }
}

export interface HistogramSeries {
  /** counts[i] = values <= boundaries[i] and > boundaries[i-1]; the last slot is above every boundary. */
  counts: Float64Array;
  count: number;
  sum: number;
  min: number;
  max: number;
  start: number;
}

/** Explicit-bucket histogram with the advice's boundaries (or the SDK's defaults). */
export class AggregatedHistogram implements Histogram<Attributes> {
  readonly kind = 'histogram';
  readonly descriptor: InstrumentDescriptor;
  readonly boundaries: number[];
  readonly series: SeriesTable<HistogramSeries>;

  constructor(name: string, options: MetricOptions | undefined) {
    this.descriptor = describe(name, options);
    const advice = options?.advice?.explicitBucketBoundaries;
    this.boundaries = advice ? [...advice].sort((a, b) => a - b) : DEFAULT_BOUNDARIES;
    const slots = this.boundaries.length + 1;
    this.series = new SeriesTable<HistogramSeries>(() => ({
      counts: new Float64Array(slots),
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      start: Date.now(),
    }));
  }

  record(value: number, attributes?: Attributes): void {
    const v = accept(this.descriptor, value, true);
    if (v === undefined) return;
    const s = this.series.get(attributes);
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    s.counts[i] = s.counts[i]! + 1;
    s.count++;
    s.sum += v;
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
  }
}

export type AggregatedInstrument = AggregatedSum | AggregatedGauge | AggregatedHistogram;
