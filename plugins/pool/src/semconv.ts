/** Attribute, metric and event names of the pool plugin. */

export const ATTR_POOL_ORIGIN = 'flowgate.pool.origin';
/** Why a connection was opened: `demand` (a request found none free), `warm_up`, `fresh` (asked for by the call). */
export const ATTR_POOL_CONNECT_REASON = 'flowgate.pool.connect.reason';
export const ATTR_POOL_CONNECT_OUTCOME = 'flowgate.pool.connect.outcome';
export const ATTR_POOL_CONNECT_DURATION_MS = 'flowgate.pool.connect.duration_ms';
export const ATTR_POOL_FRESH_CONNECTION = 'flowgate.pool.fresh_connection';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_NETWORK_PROTOCOL_VERSION = 'network.protocol.version';
export const ATTR_TLS_RESUMED = 'tls.resumed';

export const METRIC_CONNECTIONS_OPEN = 'flowgate.pool.connections.open';
export const METRIC_CONNECTIONS_FREE = 'flowgate.pool.connections.free';
export const METRIC_REQUESTS_RUNNING = 'flowgate.pool.requests.running';
export const METRIC_REQUESTS_PENDING = 'flowgate.pool.requests.pending';
export const METRIC_REQUESTS_QUEUED = 'flowgate.pool.requests.queued';
export const METRIC_CONNECTS = 'flowgate.pool.connects';
export const METRIC_CONNECT_DURATION = 'flowgate.pool.connect.duration';
export const METRIC_SATURATED = 'flowgate.pool.saturated';

export const EVENT_CONNECTION_OPENED = 'flowgate.pool.connection_opened';
export const EVENT_CONNECT_FAILED = 'flowgate.pool.connect_failed';

/** Connection set-up times: loopback (sub-ms) to a slow TLS handshake across the world. */
export const CONNECT_DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
