import { type Attributes, type Meter, ValueType } from '@opentelemetry/api';
import { type CollectionResult, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { AggregatingMeterProvider } from './meter.js';
import { AggregatedMetricProducer } from './producer.js';
import { CARDINALITY_LIMIT } from './series-table.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The same measurements, once through the SDK's instruments and once pre-aggregated. */
function both(record: (meter: Meter) => void): Promise<[unknown, unknown]> {
  const sdkReader = new TestReader();
  const sdk = new MeterProvider({ readers: [sdkReader] });
  record(sdk.getMeter('scope', '1.0.0'));

  let aggregating: AggregatingMeterProvider | undefined;
  const aggReader = new TestReader({ metricProducers: [new AggregatedMetricProducer(() => aggregating)] });
  aggregating = new AggregatingMeterProvider(new MeterProvider({ readers: [aggReader] }));
  record(aggregating.getMeter('scope', '1.0.0'));

  return Promise.all([sdkReader.collect().then(normalize), aggReader.collect().then(normalize)]);
}

/** What an exporter sees, minus timestamps, with data points in a stable order. */
function normalize({ resourceMetrics, errors }: CollectionResult): unknown {
  expect(errors).toEqual([]);
  return resourceMetrics.scopeMetrics
    .filter((s) => s.metrics.length > 0)
    .map((s) => ({
      scope: s.scope.name,
      metrics: s.metrics
        .map((m) => ({
          name: m.descriptor.name,
          unit: m.descriptor.unit,
          description: m.descriptor.description,
          valueType: m.descriptor.valueType,
          type: m.dataPointType,
          temporality: m.aggregationTemporality,
          monotonic: 'isMonotonic' in m ? m.isMonotonic : undefined,
          points: m.dataPoints
            .map((p) => ({ attributes: sortKeys(p.attributes), value: p.value }))
            .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes))),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }));
}

const sortKeys = (a: Attributes) => Object.fromEntries(Object.entries(a).sort(([x], [y]) => x.localeCompare(y)));

describe('pre-aggregated instruments', () => {
  it('export exactly what the SDK exports for counters, up-down counters, gauges and histograms', async () => {
    const [sdk, aggregated] = await both((meter) => {
      const counter = meter.createCounter('requests', { unit: '{request}', description: 'calls' });
      const upDown = meter.createUpDownCounter('in_flight', { valueType: ValueType.INT });
      const gauge = meter.createGauge('temperature');
      const advised = meter.createHistogram('duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [0.01, 0.1, 1, 10] },
      });
      const plain = meter.createHistogram('size');
      const frozen = Object.freeze({ model: 'a', provider: 'x' });
      for (let i = 0; i < 50; i++) {
        counter.add(1, frozen);
        counter.add(2, { provider: 'x', model: 'a' }); // the same set in another order
        counter.add(0.5, { model: 'b', provider: 'x', extra: undefined });
        upDown.add(i % 3 === 0 ? -1.7 : 2.2, { model: 'a' });
        gauge.record(i, { room: 'x' });
        advised.record(i / 7, frozen);
        advised.record(i === 10 ? 0.1 : i / 3, { model: 'b' }); // 0.1: on a boundary (inclusive upper bound)
        plain.record(i * 31);
      }
      counter.add(-1, frozen); // dropped: counters only go up
      advised.record(-3, frozen); // dropped: histograms take no negative values
      counter.add(1, { list: ['p', 'q'], flag: true, n: 3 });
    });
    expect(aggregated).toEqual(sdk);
    // And the comparison is not vacuous.
    expect(JSON.stringify(sdk)).toContain('"duration"');
  });

  it('fold series past the cardinality limit into one overflow series, as the SDK does', async () => {
    const [sdk, aggregated] = await both((meter) => {
      const counter = meter.createCounter('wide');
      for (let i = 0; i < CARDINALITY_LIMIT + 25; i++) counter.add(1, { id: `u${i}` });
    });
    expect(aggregated).toEqual(sdk);
    expect(JSON.stringify(aggregated)).toContain('otel.metric.overflow');
  });

  it('keep a series by its values when the caller changes a reused, unfrozen object', async () => {
    // (The SDK keeps the caller's object and would export {model: b} twice here.)
    const [, aggregated] = await both((meter) => {
      const counter = meter.createCounter('reused');
      const attrs: Attributes = { model: 'a' };
      counter.add(1, attrs);
      attrs.model = 'b';
      counter.add(2, attrs);
    });
    const points = (aggregated as { metrics: { points: unknown[] }[] }[])[0]!.metrics[0]!.points;
    expect(points).toEqual([
      { attributes: { model: 'a' }, value: 1 },
      { attributes: { model: 'b' }, value: 2 },
    ]);
  });

  it('hand observable instruments to the SDK meter', async () => {
    const [sdk, aggregated] = await both((meter) => {
      meter.createObservableGauge('queue').addCallback((r) => r.observe(7, { q: 'main' }));
    });
    expect(aggregated).toEqual(sdk);
    expect(JSON.stringify(aggregated)).toContain('"queue"');
  });
});
