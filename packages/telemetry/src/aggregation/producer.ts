import type { Attributes, HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { AggregatedInstrument, HistogramSeries } from './instruments.js';
import type { AggregatingMeterProvider } from './meter.js';

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/**
 * Hands the in-process aggregates to a MetricReader at collection time, as cumulative data
 * (the reader merges them with the SDK's own instruments under the SDK's resource).
 */
export class AggregatedMetricProducer implements MetricProducer {
  constructor(private readonly provider: () => AggregatingMeterProvider | undefined) {}

  async collect(): Promise<CollectionResult> {
    const now = hr(Date.now());
    const scopeMetrics: ScopeMetrics[] = [];
    for (const meter of this.provider()?.allMeters() ?? []) {
      const metrics: MetricData[] = [];
      for (const instrument of meter.instruments.values()) {
        const data = toMetricData(instrument, now);
        if (data) metrics.push(data);
      }
      if (metrics.length > 0) scopeMetrics.push({ scope: meter.scope, metrics });
    }
    // The reader replaces this resource with its own; only scopeMetrics are merged.
    return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics }, errors: [] };
  }
}

function toMetricData(instrument: AggregatedInstrument, endTime: HrTime): MetricData | undefined {
  const descriptor = instrument.descriptor;
  const point = <T>(attributes: Attributes, start: number, value: T): DataPoint<T> => ({
    attributes,
    startTime: hr(start),
    endTime,
    value,
  });
  switch (instrument.kind) {
    case 'sum': {
      const entries = instrument.series.entries();
      if (entries.length === 0) return undefined;
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: instrument.monotonic,
        dataPoints: entries.map(({ attributes, series }) =>
          point(
            attributes,
            startOf(series),
            series.reduce((n, s) => n + s.value, 0),
          ),
        ),
      };
    }
    case 'gauge': {
      const entries = instrument.series.entries();
      if (entries.length === 0) return undefined;
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: entries.map(({ attributes, series }) => point(attributes, startOf(series), series.at(-1)!.value)),
      };
    }
    case 'histogram': {
      const entries = instrument.series.entries();
      if (entries.length === 0) return undefined;
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: entries
          .map(({ attributes, series }) =>
            point(attributes, startOf(series), histogramOf(instrument.boundaries, series)),
          )
          .filter((p) => p.value.count > 0),
      };
    }
  }
}

/** A merged series started when its earliest part did. */
const startOf = (series: { start: number }[]): number => Math.min(...series.map((s) => s.start));

function histogramOf(boundaries: number[], series: HistogramSeries[]): Histogram {
  const counts = new Array<number>(boundaries.length + 1).fill(0);
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) {
    for (let i = 0; i < counts.length; i++) counts[i] = counts[i]! + s.counts[i]!;
    count += s.count;
    sum += s.sum;
    if (s.min < min) min = s.min;
    if (s.max > max) max = s.max;
  }
  return { buckets: { boundaries: [...boundaries], counts }, count, sum, min, max };
}
