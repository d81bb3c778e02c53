import { ConfigError } from '@flowgate/core';

/** TLS and socket options for new connections (undici `connect` options). */
export interface PoolConnectOptions {
  /** Time allowed for DNS + TCP + TLS, in ms. Default 10 000. */
  timeout?: number;
  /** Trusted CA certificates (PEM); they replace Node's CA store for the origin, so set them per origin. Default: Node's store. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** `false` accepts any certificate: for local tests only. Default `true`. */
  rejectUnauthorized?: boolean;
  /** SNI name, when it differs from the origin's host name. */
  servername?: string;
  /** TLS sessions kept for resumption (per origin). Default 100; `0` disables resumption. */
  maxCachedSessions?: number;
}

/** Opens connections when the gateway starts, so that the first calls do not pay the handshake. */
export interface WarmUpOptions {
  /** Connections to open per origin (HTTP/1.1). An HTTP/2 upstream multiplexes them onto one. */
  connections: number;
  /**
   * The request that opens each connection; any HTTP answer counts, its body is discarded.
   * Default `GET /` (a `HEAD` is answered with `Connection: close` by some servers).
   */
  method?: 'GET' | 'OPTIONS' | 'HEAD';
  path?: string;
  /** Deadline for the warm-up of one origin, in ms. Default 10 000. */
  timeoutMs?: number;
}

/** Options of the pool of one origin. */
export interface OriginPoolOptions {
  /** Most connections open to the origin at once (`Infinity`: no limit). Default 128. */
  connections?: number;
  /** Requests sent on one HTTP/1.1 connection before the previous answer arrived. Default 1 (no pipelining). */
  pipelining?: number;
  /**
   * Idle time before a connection is closed, in ms, when the server sends no `Keep-Alive: timeout=`
   * hint. A hint wins (minus 2 s of margin), capped by `keepAliveMaxTimeout`. Default 30 000.
   */
  keepAliveTimeout?: number;
  /** Upper bound on the idle time a server hint can ask for, in ms. Default 600 000. */
  keepAliveMaxTimeout?: number;
  /** Time allowed for the response headers, in ms (a whole answer's headers come when it is done). Default 300 000. */
  headersTimeout?: number;
  /** Longest silence between two body chunks, in ms. Default 300 000. */
  bodyTimeout?: number;
  /** Negotiate HTTP/2 through ALPN where the origin offers it (multiplexes calls on one connection). Default false. */
  allowH2?: boolean;
  /**
   * Most requests waiting for a free connection. A request beyond it fails at once with
   * `FLOWGATE_ERR_POOL_SATURATED` (retryable: a router can send it elsewhere). `Infinity`: no bound. Default 1024.
   */
  maxQueued?: number;
  connect?: PoolConnectOptions;
  warmUp?: WarmUpOptions;
}

export interface PoolOptions extends OriginPoolOptions {
  /**
   * Per-origin overrides, keyed by origin (`https://api.openai.com`; a path is ignored). Each key must be the
   * origin of one of the gateway's providers.
   */
  origins?: Record<string, OriginPoolOptions>;
  /** How long `gateway.close()` lets in-flight requests finish before the sockets are destroyed, in ms. Default 30 000. */
  drainTimeoutMs?: number;
}

/** The options of one origin with every default filled in. */
export interface ResolvedOriginOptions {
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAliveTimeout: number;
  readonly keepAliveMaxTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly allowH2: boolean;
  readonly maxQueued: number;
  readonly connect: Readonly<PoolConnectOptions> & { readonly timeout: number };
  readonly warmUp: Required<WarmUpOptions> | undefined;
}

export const DEFAULTS = {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  headersTimeout: 300_000,
  bodyTimeout: 300_000,
  allowH2: false,
  maxQueued: 1024,
  connectTimeout: 10_000,
  drainTimeoutMs: 30_000,
  warmUpTimeoutMs: 10_000,
} as const;

/** `https://Host:443/v1` → `https://host`; throws a ConfigError naming `what` when it is not an http(s) URL. */
export function originOf(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`pool: ${what} is not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`pool: ${what} must be an http(s) origin: "${url}"`);
  }
  return parsed.origin;
}

/** Merges base options, then the origin's overrides, over the defaults, and checks every value. */
export function resolveOriginOptions(
  base: OriginPoolOptions,
  override: OriginPoolOptions | undefined,
  where: string,
): ResolvedOriginOptions {
  const o: OriginPoolOptions = { ...base, ...override };
  const connect = { ...base.connect, ...override?.connect };
  const resolved: ResolvedOriginOptions = {
    connections: count(o.connections ?? DEFAULTS.connections, `${where}.connections`, 1, true),
    pipelining: count(o.pipelining ?? DEFAULTS.pipelining, `${where}.pipelining`, 0, false),
    keepAliveTimeout: ms(o.keepAliveTimeout ?? DEFAULTS.keepAliveTimeout, `${where}.keepAliveTimeout`, 1),
    keepAliveMaxTimeout: ms(o.keepAliveMaxTimeout ?? DEFAULTS.keepAliveMaxTimeout, `${where}.keepAliveMaxTimeout`, 1),
    headersTimeout: ms(o.headersTimeout ?? DEFAULTS.headersTimeout, `${where}.headersTimeout`, 0),
    bodyTimeout: ms(o.bodyTimeout ?? DEFAULTS.bodyTimeout, `${where}.bodyTimeout`, 0),
    allowH2: bool(o.allowH2 ?? DEFAULTS.allowH2, `${where}.allowH2`),
    maxQueued: count(o.maxQueued ?? DEFAULTS.maxQueued, `${where}.maxQueued`, 0, true),
    connect: {
      ...connect,
      timeout: ms(connect.timeout ?? DEFAULTS.connectTimeout, `${where}.connect.timeout`, 0),
    },
    warmUp: undefined,
  };
  if (connect.rejectUnauthorized !== undefined) bool(connect.rejectUnauthorized, `${where}.connect.rejectUnauthorized`);
  if (connect.maxCachedSessions !== undefined) {
    count(connect.maxCachedSessions, `${where}.connect.maxCachedSessions`, 0, false);
  }
  if (o.warmUp !== undefined) {
    const w = o.warmUp;
    if (w === null || typeof w !== 'object') throw new ConfigError(`pool: ${where}.warmUp must be an object`);
    const n = count(w.connections, `${where}.warmUp.connections`, 0, false);
    if (n > resolved.connections) {
      throw new ConfigError(
        `pool: ${where}.warmUp.connections (${n}) is more than the pool may open (connections: ${resolved.connections})`,
      );
    }
    if (n > 0 && resolved.pipelining === 0) {
      throw new ConfigError(`pool: ${where}.warmUp needs keep-alive, but pipelining is 0 (no connection reuse)`);
    }
    const method = w.method ?? 'GET';
    if (method !== 'GET' && method !== 'OPTIONS' && method !== 'HEAD') {
      throw new ConfigError(`pool: ${where}.warmUp.method must be GET, OPTIONS or HEAD, got "${String(method)}"`);
    }
    const path = w.path ?? '/';
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new ConfigError(`pool: ${where}.warmUp.path must start with "/", got "${String(path)}"`);
    }
    const timeoutMs = ms(w.timeoutMs ?? DEFAULTS.warmUpTimeoutMs, `${where}.warmUp.timeoutMs`, 1);
    if (n > 0) (resolved as { warmUp: Required<WarmUpOptions> }).warmUp = { connections: n, method, path, timeoutMs };
  }
  return resolved;
}

/** A whole number >= min; `Infinity` too when `infinite`. */
function count(v: unknown, name: string, min: number, infinite: boolean): number {
  if (typeof v === 'number' && ((infinite && v === Number.POSITIVE_INFINITY) || (Number.isInteger(v) && v >= min))) {
    return v;
  }
  throw new ConfigError(
    `pool: ${name} must be a whole number >= ${min}${infinite ? ' (or Infinity)' : ''}, got ${String(v)}`,
  );
}

function ms(v: unknown, name: string, min: number): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= min) return v;
  throw new ConfigError(`pool: ${name} must be a number of milliseconds >= ${min}, got ${String(v)}`);
}

function bool(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new ConfigError(`pool: ${name} must be true or false, got ${String(v)}`);
}
