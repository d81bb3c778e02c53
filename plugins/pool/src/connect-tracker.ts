import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import { type Attributes, diag, type Span } from '@opentelemetry/api';
import type { ConnectReason, PoolInstruments } from './metrics.js';
import type { OriginState } from './origin-state.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_POOL_CONNECT_DURATION_MS,
  ATTR_POOL_CONNECT_REASON,
  ATTR_POOL_ORIGIN,
  ATTR_TLS_RESUMED,
  EVENT_CONNECT_FAILED,
  EVENT_CONNECTION_OPENED,
} from './semconv.js';

/** What a warm-up learns from the connections it opened. */
export interface WarmUpTally {
  opened: number;
  failed: number;
  /** `h1` or `h2`, from the last connection opened. */
  protocol: string | undefined;
  errors: Set<string>;
}

/**
 * The async scope a request is dispatched in: an attempt (its span gets the connection events), a warm-up
 * request, or a lone dispatch. undici publishes `beforeConnect` synchronously inside the dispatch that needs the
 * connection, and `connected` / `connectError` from the socket's callbacks, which Node runs in the async
 * context the socket was created in; requests that wait in a pool queue are dispatched later in their caller's
 * context (undici keeps it with an AsyncResource). So the scope seen by all three messages is the one of the
 * request that caused the connection, and it pairs the start with the end of the set-up.
 */
export class ConnectScope {
  /** `performance.now()` when this scope's connection started; 0 when none is in progress. */
  started = 0;

  constructor(
    readonly state: OriginState,
    readonly reason: ConnectReason,
    /** The attempt span, when it records. */
    readonly span: Span | undefined,
    readonly tally?: WarmUpTally,
  ) {}
}

/** The fields of undici's `undici:client:*` connect messages that are read here. */
interface ConnectMessage {
  connectParams: { protocol: string; host: string; version?: string | undefined };
  socket?: unknown;
  error?: unknown;
}

const BEFORE_CONNECT = 'undici:client:beforeConnect';
const CONNECTED = 'undici:client:connected';
const CONNECT_ERROR = 'undici:client:connectError';

/**
 * Counts and times connection set-ups from undici's diagnostics channels. The channels are process-wide (every
 * undici client publishes on them, Node's fetch included): a message counts only when it arrives inside one of
 * this plugin's scopes and names the scope's origin. A subscriber never throws (a throw there would surface as
 * an uncaught exception).
 */
export class ConnectTracker {
  readonly scopes = new AsyncLocalStorage<ConnectScope>();
  private subscribed = false;

  constructor(private readonly instruments: PoolInstruments) {}

  start(): void {
    if (this.subscribed) return;
    diagnostics.subscribe(BEFORE_CONNECT, this.onBeforeConnect);
    diagnostics.subscribe(CONNECTED, this.onConnected);
    diagnostics.subscribe(CONNECT_ERROR, this.onConnectError);
    this.subscribed = true;
  }

  stop(): void {
    if (!this.subscribed) return;
    diagnostics.unsubscribe(BEFORE_CONNECT, this.onBeforeConnect);
    diagnostics.unsubscribe(CONNECTED, this.onConnected);
    diagnostics.unsubscribe(CONNECT_ERROR, this.onConnectError);
    this.subscribed = false;
  }

  private scopeOf(message: unknown): ConnectScope | undefined {
    const scope = this.scopes.getStore();
    if (scope === undefined) return undefined;
    const p = (message as ConnectMessage | undefined)?.connectParams;
    if (p === undefined || `${p.protocol}//${p.host}` !== scope.state.origin) return undefined;
    return scope;
  }

  private readonly onBeforeConnect = (message: unknown): void => {
    const scope = this.scopeOf(message);
    if (scope) scope.started = performance.now();
  };

  private readonly onConnected = (message: unknown): void => {
    try {
      const scope = this.scopeOf(message);
      if (!scope) return;
      const ms = elapsed(scope);
      const { state, reason, span, tally } = scope;
      const m = message as ConnectMessage;
      state.connects++;
      state.recordConnect(ms);
      this.instruments.connected(state, reason, ms);
      if (tally) {
        tally.opened++;
        tally.protocol = m.connectParams.version;
      }
      if (span?.isRecording()) {
        const attributes: Attributes = {
          [ATTR_POOL_ORIGIN]: state.origin,
          [ATTR_POOL_CONNECT_REASON]: reason,
          [ATTR_POOL_CONNECT_DURATION_MS]: ms,
        };
        const version = m.connectParams.version;
        if (version !== undefined) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = version === 'h2' ? '2' : '1.1';
        const socket = m.socket as Partial<TLSSocket> | undefined;
        if (typeof socket?.isSessionReused === 'function') attributes[ATTR_TLS_RESUMED] = socket.isSessionReused();
        span.addEvent(EVENT_CONNECTION_OPENED, attributes);
      }
    } catch (err) {
      diag.error('flowgate pool: failed to record a connection', err);
    }
  };

  private readonly onConnectError = (message: unknown): void => {
    try {
      const scope = this.scopeOf(message);
      if (!scope) return;
      const ms = elapsed(scope);
      const { state, reason, span, tally } = scope;
      const error = (message as ConnectMessage).error;
      const type = errorType(error);
      state.connectErrors++;
      this.instruments.connectFailed(state, reason, ms, type);
      if (tally) {
        tally.failed++;
        tally.errors.add(error instanceof Error ? error.message : String(error));
      }
      if (span?.isRecording()) {
        span.addEvent(EVENT_CONNECT_FAILED, {
          [ATTR_POOL_ORIGIN]: state.origin,
          [ATTR_POOL_CONNECT_REASON]: reason,
          [ATTR_POOL_CONNECT_DURATION_MS]: ms,
          [ATTR_ERROR_TYPE]: type,
        });
      }
    } catch (err) {
      diag.error('flowgate pool: failed to record a connection error', err);
    }
  };
}

function elapsed(scope: ConnectScope): number {
  const ms = scope.started > 0 ? performance.now() - scope.started : 0;
  scope.started = 0;
  return ms;
}

function errorType(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (err instanceof Error) return err.name;
  }
  return '_OTHER';
}
