export {
  type MetricsOptions,
  startTelemetry,
  type Telemetry,
  type TelemetryOptions,
  type TracesOptions,
} from './telemetry.js';
