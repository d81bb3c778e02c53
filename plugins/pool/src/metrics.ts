import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  Meter,
  Observable,
  ObservableGauge,
} from '@opentelemetry/api';
import type { OriginState } from './origin-state.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_POOL_CONNECT_OUTCOME,
  ATTR_POOL_CONNECT_REASON,
  CONNECT_DURATION_BUCKETS_S,
  METRIC_CONNECT_DURATION,
  METRIC_CONNECTIONS_FREE,
  METRIC_CONNECTIONS_OPEN,
  METRIC_CONNECTS,
  METRIC_REQUESTS_PENDING,
  METRIC_REQUESTS_QUEUED,
  METRIC_REQUESTS_RUNNING,
  METRIC_SATURATED,
} from './semconv.js';

export type ConnectReason = 'demand' | 'warm_up' | 'fresh';

/**
 * The plugin's instruments, created once at setup. The gauges are observed in one batch callback that reads
 * undici's pool counters per origin at collection time (nothing is counted on the request path).
 */
export class PoolInstruments {
  private readonly connects: Counter;
  private readonly duration: Histogram;
  private readonly saturatedCounter: Counter;
  private readonly open: ObservableGauge;
  private readonly free: ObservableGauge;
  private readonly running: ObservableGauge;
  private readonly pending: ObservableGauge;
  private readonly queued: ObservableGauge;
  private readonly observables: Observable[];

  constructor(
    private readonly meter: Meter,
    private readonly origins: () => Iterable<OriginState>,
  ) {
    this.connects = meter.createCounter(METRIC_CONNECTS, {
      unit: '{connection}',
      description: 'Connections set up (or failed to), by origin, reason and outcome',
    });
    this.duration = meter.createHistogram(METRIC_CONNECT_DURATION, {
      unit: 's',
      description: 'Time to set up a connection: DNS, TCP and TLS handshakes',
      advice: { explicitBucketBoundaries: CONNECT_DURATION_BUCKETS_S },
    });
    this.saturatedCounter = meter.createCounter(METRIC_SATURATED, {
      unit: '{request}',
      description: 'Requests refused because every connection was busy and the queue was full',
    });
    this.open = meter.createObservableGauge(METRIC_CONNECTIONS_OPEN, {
      unit: '{connection}',
      description: 'Open connections per origin',
    });
    this.free = meter.createObservableGauge(METRIC_CONNECTIONS_FREE, {
      unit: '{connection}',
      description: 'Open connections without a request on them',
    });
    this.running = meter.createObservableGauge(METRIC_REQUESTS_RUNNING, {
      unit: '{request}',
      description: 'Requests on the wire',
    });
    this.pending = meter.createObservableGauge(METRIC_REQUESTS_PENDING, {
      unit: '{request}',
      description: 'Requests not yet written to a socket (queued ones included)',
    });
    this.queued = meter.createObservableGauge(METRIC_REQUESTS_QUEUED, {
      unit: '{request}',
      description: 'Requests waiting for a free connection',
    });
    this.observables = [this.open, this.free, this.running, this.pending, this.queued];
    meter.addBatchObservableCallback(this.observe, this.observables);
  }

  private readonly observe = (result: BatchObservableResult): void => {
    for (const state of this.origins()) {
      const s = state.live();
      const a = state.attributes;
      result.observe(this.open, s.connected, a);
      result.observe(this.free, s.free, a);
      result.observe(this.running, s.running, a);
      result.observe(this.pending, s.pending, a);
      result.observe(this.queued, s.queued, a);
    }
  };

  connected(state: OriginState, reason: ConnectReason, ms: number): void {
    const attributes: Attributes = {
      ...state.attributes,
      [ATTR_POOL_CONNECT_REASON]: reason,
      [ATTR_POOL_CONNECT_OUTCOME]: 'ok',
    };
    this.connects.add(1, attributes);
    this.duration.record(ms / 1000, attributes);
  }

  connectFailed(state: OriginState, reason: ConnectReason, ms: number, errorType: string): void {
    const attributes: Attributes = {
      ...state.attributes,
      [ATTR_POOL_CONNECT_REASON]: reason,
      [ATTR_POOL_CONNECT_OUTCOME]: 'error',
      [ATTR_ERROR_TYPE]: errorType,
    };
    this.connects.add(1, attributes);
    this.duration.record(ms / 1000, attributes);
  }

  saturated(state: OriginState): void {
    this.saturatedCounter.add(1, state.attributes);
  }

  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.observables);
  }
}
