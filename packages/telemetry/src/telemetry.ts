import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Attributes, context, diag, type MeterProvider, metrics, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { IMetricReader, MetricProducer } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type Sampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { AggregatingMeterProvider } from './aggregation/meter.js';
import { AggregatedMetricProducer } from './aggregation/producer.js';
import { BufferedIdGenerator } from './ids.js';

export interface TracesOptions {
  /**
   * Where spans go. `'otlp'` (default): OTLP over HTTP/protobuf, endpoint from the standard
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` variables (default
   * http://localhost:4318/v1/traces, where Jaeger v2 listens) or `endpoint`. Or any SpanExporter.
   */
  exporter?: 'otlp' | SpanExporter;
  /** Full URL of the OTLP traces endpoint, e.g. http://jaeger:4318/v1/traces. */
  endpoint?: string;
  /** Default: the SDK's, from OTEL_TRACES_SAMPLER (parent-based always-on). */
  sampler?: Sampler;
}

export interface MetricsOptions {
  /**
   * Prometheus exposition. `{ port }` serves `/metrics` on its own port (default 9464, host
   * `OTEL_EXPORTER_PROMETHEUS_HOST`); `{ mount: true }` starts no server: serve
   * `telemetry.metricsHandler` from your own (the gateway server mounts it on `/metrics`).
   */
  prometheus?: { port?: number; host?: string } | { mount: true };
  /**
   * Extra metric readers (for example a PeriodicExportingMetricReader with an OTLP exporter).
   * Give a function to let them see the pre-aggregated instruments: it receives the producers to
   * pass as the readers' `metricProducers`. Readers given as an array cannot, so then
   * pre-aggregation is off.
   */
  readers?: IMetricReader[] | ((options: { metricProducers: MetricProducer[] }) => IMetricReader[]);
  /**
   * Aggregate counters, histograms and gauges in process and hand them to the readers at
   * collection time (default true): the same exported data at a fraction of the SDK's cost per
   * record, which hashes the attribute set every time. SDK Views do not apply to them; set
   * `false` to record through the SDK's own instruments.
   */
  preAggregate?: boolean;
}

export interface TelemetryOptions {
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `flowgate`. */
  serviceName?: string;
  serviceVersion?: string;
  /** More resource attributes; `OTEL_RESOURCE_ATTRIBUTES` is read too. */
  resourceAttributes?: Attributes;
  /** `false` turns tracing off. Default: OTLP. */
  traces?: TracesOptions | false;
  /** `false` turns metrics off. Default: Prometheus on its own port. */
  metrics?: MetricsOptions | false;
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export interface Telemetry {
  /** True when OTEL_SDK_DISABLED=true: nothing was started, everything stays a no-op. */
  readonly disabled: boolean;
  /** Serves the Prometheus exposition (mount mode; also works in port mode). */
  readonly metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** URL of the own-port Prometheus endpoint, when one was started. */
  readonly metricsUrl: string | undefined;
  /** The global meter provider it registered, for `createGateway({ meterProvider })`. */
  readonly meterProvider: MeterProvider | undefined;
  /** Flushes pending spans and metrics, then stops exporters and servers. Safe to call twice. */
  shutdown(): Promise<void>;
}

const DISABLED: Telemetry = {
  disabled: true,
  metricsHandler: undefined,
  metricsUrl: undefined,
  meterProvider: undefined,
  shutdown: async () => {},
};

/**
 * Starts the OpenTelemetry Node SDK for a flowgate process: OTLP traces (HTTP/protobuf) and
 * Prometheus metrics, with resource attributes, registered globally. Start it before creating a
 * gateway (the gateway reads the global meter provider once, at creation).
 *
 * @example
 * const telemetry = startTelemetry({ serviceName: 'my-gateway', metrics: { prometheus: { port: 9464 } } });
 * const gateway = createGateway({ providers: [openai()] });
 * process.on('SIGTERM', () => telemetry.shutdown());
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  if (
    String(env.OTEL_SDK_DISABLED ?? '')
      .trim()
      .toLowerCase() === 'true'
  )
    return DISABLED;

  const spanProcessors: SpanProcessor[] = [];
  if (options.traces !== false) {
    const t = options.traces ?? {};
    const exporter: SpanExporter =
      t.exporter && t.exporter !== 'otlp' ? t.exporter : new OTLPTraceExporter(t.endpoint ? { url: t.endpoint } : {});
    spanProcessors.push(new BatchSpanProcessor({ exporter }));
  }

  const readers: IMetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  let metricsUrl: string | undefined;
  // The producer reads the aggregating provider, which wraps the SDK's, which exists after start().
  let aggregating: AggregatingMeterProvider | undefined;
  if (options.metrics !== false) {
    const m = options.metrics ?? {};
    const preAggregate = m.preAggregate !== false && !Array.isArray(m.readers);
    const metricProducers: MetricProducer[] = preAggregate ? [new AggregatedMetricProducer(() => aggregating)] : [];
    const p = m.prometheus ?? {};
    if ('mount' in p) {
      prometheus = new PrometheusExporter({ preventServerStart: true, metricProducers });
    } else {
      const port = p.port ?? Number(env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464);
      const host = p.host ?? env.OTEL_EXPORTER_PROMETHEUS_HOST;
      prometheus = new PrometheusExporter({ port, ...(host ? { host } : {}), metricProducers }, (err) => {
        if (err) diag.error(`flowgate telemetry: the Prometheus endpoint could not start on port ${port}`, err);
      });
      metricsUrl = `http://${host ?? 'localhost'}:${port}/metrics`;
    }
    const extra = typeof m.readers === 'function' ? m.readers({ metricProducers }) : (m.readers ?? []);
    readers.push(prometheus, ...extra);
    if (preAggregate) aggregating = new AggregatingMeterProvider();
  }

  const serviceName = options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'flowgate';
  const sdk = new NodeSDK({
    serviceName,
    resource: resourceFromAttributes({
      'service.name': serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      ...options.resourceAttributes,
    }),
    // Explicit lists: empty ones mean "off" (the SDK then registers no provider) rather than
    // "read OTEL_*_EXPORTER"; flowgate exports no logs.
    spanProcessors,
    idGenerator: new BufferedIdGenerator(),
    metricReaders: readers,
    logRecordProcessors: [],
    ...(options.traces && options.traces.sampler !== undefined ? { sampler: options.traces.sampler } : {}),
    instrumentations: [],
  });
  sdk.start();
  if (aggregating) {
    // NodeSDK registered its provider globally; put the aggregating one in front of it.
    aggregating.bind(metrics.getMeterProvider());
    metrics.disable();
    metrics.setGlobalMeterProvider(aggregating);
  }

  const prom = prometheus;
  let stopping: Promise<void> | undefined;
  return {
    disabled: false,
    metricsHandler: prom ? (req, res) => prom.getMetricsRequestHandler(req, res) : undefined,
    metricsUrl,
    meterProvider: readers.length > 0 ? (aggregating ?? metrics.getMeterProvider()) : undefined,
    shutdown() {
      stopping ??= sdk.shutdown().finally(() => {
        // Leave the API as if no SDK had been registered, so a later start (tests, restarts) is clean.
        trace.disable();
        metrics.disable();
        context.disable();
      });
      return stopping;
    },
  };
}
