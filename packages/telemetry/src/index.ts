export { AggregatingMeterProvider } from './aggregation/meter.js';
export { AggregatedMetricProducer } from './aggregation/producer.js';
export { BufferedIdGenerator } from './ids.js';
export {
  type MetricsOptions,
  startTelemetry,
  type Telemetry,
  type TelemetryOptions,
  type TracesOptions,
} from './telemetry.js';
