import type { Attributes } from '@opentelemetry/api';
import type { Client, Pool } from 'undici';
import type { ResolvedOriginOptions } from './options.js';
import { ATTR_POOL_ORIGIN } from './semconv.js';

/** What `stats()` reports for one origin. */
export interface OriginPoolStats {
  origin: string;
  /** Open connections. */
  connected: number;
  /** Open connections without a request on them. */
  free: number;
  /** Requests not yet written to a socket (queued ones included). */
  pending: number;
  /** Requests waiting for a free connection. */
  queued: number;
  /** Requests on the wire (sent, answer not fully read). */
  running: number;
  /** Connections set up since start (warm-up and fresh connections included). */
  connects: number;
  connectErrors: number;
  /** Median set-up time (DNS + TCP + TLS) of the last 256 connections, in ms; undefined before the first. */
  connectP50Ms: number | undefined;
  /** Requests refused with FLOWGATE_ERR_POOL_SATURATED. */
  saturated: number;
  /** Calls that asked for a fresh connection. */
  freshConnections: number;
}

const RING = 256;
const NO_STATS = { connected: 0, free: 0, pending: 0, queued: 0, running: 0, size: 0 };

/** Everything the plugin keeps about one origin: its options, its current undici pool, counters. */
export class OriginState {
  readonly attributes: Attributes;
  /** The pool the Agent currently uses for this origin; the Agent drops a pool once all its connections closed. */
  pool: Pool | undefined;
  /**
   * True once undici's `dispatch()` returned false (no free connection, and none may be added) and until the pool
   * emits `drain`. A request waits in the pool's queue only while it is set: that is when `maxQueued` applies.
   */
  busy = false;
  connects = 0;
  connectErrors = 0;
  saturated = 0;
  freshConnections = 0;
  /** Fresh one-shot clients still open. */
  readonly freshClients = new Set<Client>();
  private readonly durations = new Float64Array(RING);
  private recorded = 0;

  constructor(
    readonly origin: string,
    readonly options: ResolvedOriginOptions,
    /** The provider id to put on errors, when exactly one provider has this origin. */
    readonly provider: string | undefined,
  ) {
    this.attributes = Object.freeze({ [ATTR_POOL_ORIGIN]: origin });
  }

  /** undici options for the pool of this origin. */
  poolOptions(): Pool.Options {
    const o = this.options;
    const { timeout, maxCachedSessions, ...tls } = o.connect;
    return {
      connections: o.connections === Number.POSITIVE_INFINITY ? null : o.connections,
      pipelining: o.pipelining,
      keepAliveTimeout: o.keepAliveTimeout,
      keepAliveMaxTimeout: o.keepAliveMaxTimeout,
      headersTimeout: o.headersTimeout,
      bodyTimeout: o.bodyTimeout,
      allowH2: o.allowH2,
      maxCachedSessions,
      connect: { ...tls, timeout },
    };
  }

  /** undici options for a one-shot client: the pool's, but a full handshake (no resumed TLS session). */
  freshClientOptions(): Client.Options {
    const o = this.options;
    const { timeout, maxCachedSessions: _sessions, ...tls } = o.connect;
    return {
      pipelining: 1,
      headersTimeout: o.headersTimeout,
      bodyTimeout: o.bodyTimeout,
      allowH2: o.allowH2,
      maxCachedSessions: 0,
      connect: { ...tls, timeout },
    };
  }

  recordConnect(ms: number): void {
    this.durations[this.recorded % RING] = ms;
    this.recorded++;
  }

  connectP50(): number | undefined {
    const n = Math.min(this.recorded, RING);
    if (n === 0) return undefined;
    const sorted = this.durations.slice(0, n).sort();
    return sorted[Math.ceil(n / 2) - 1];
  }

  /** undici's counters of the current pool (zeros when there is none). */
  poolStats(): typeof NO_STATS {
    const pool = this.pool;
    if (pool === undefined || pool.destroyed) return NO_STATS;
    return pool.stats;
  }

  /** The live counters, fresh one-shot connections included (what the gauges report). */
  live(): Pick<OriginPoolStats, 'connected' | 'free' | 'pending' | 'queued' | 'running'> {
    const s = this.poolStats();
    let connected = s.connected;
    let running = s.running;
    for (const c of this.freshClients) {
      const cs = c.stats;
      if (cs.connected) connected++;
      running += cs.running;
    }
    return { connected, free: s.free, pending: s.pending, queued: s.queued, running };
  }

  snapshot(): OriginPoolStats {
    return {
      origin: this.origin,
      ...this.live(),
      connects: this.connects,
      connectErrors: this.connectErrors,
      connectP50Ms: this.connectP50(),
      saturated: this.saturated,
      freshConnections: this.freshConnections,
    };
  }
}
