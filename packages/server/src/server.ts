import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AbortError,
  type CallMetadata,
  type CallOptions,
  type ChatCompletionRequest,
  type EmbeddingRequest,
  type Gateway,
  type Plugin,
} from '@flowgate/core';
import { type MeterProvider, metrics } from '@opentelemetry/api';
import { performanceSummary } from './admin.js';
import { DEFAULT_LIMITS, type LimitsConfig } from './config.js';
import { serveDashboard } from './dashboard/page.js';
import { errorAnswer, errorJson, HttpError } from './errors.js';
import { readJsonBody, sendError, sendJson, whenWritable } from './http.js';
import { RequestStats } from './request-stats.js';

/** An entry of `GET /v1/models`. */
export interface ModelEntry {
  id: string;
  /** Who serves it: a provider id, or `flowgate` for an alias. */
  owned_by: string;
}

export interface ServerOptions {
  gateway: Gateway;
  /** Gateway API key -> tenant. Empty or absent: an open gateway (no `Authorization` needed). */
  keys?: ReadonlyMap<string, string>;
  limits?: LimitsConfig;
  /** Serves `GET /metrics` (the telemetry's Prometheus handler); without it `/metrics` answers 404. */
  metricsHandler?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The gateway's plugins: `/admin/performance` reads their `adminSummary()`. */
  plugins?: readonly Plugin[];
  /** What `GET /v1/models` lists. */
  models?: readonly ModelEntry[];
  /** For the server's own metrics; default the global meter provider at creation. */
  meterProvider?: MeterProvider | undefined;
  /** Run by `close()` once requests are drained: close the gateway, flush telemetry... */
  onClose?: () => Promise<void>;
}

export interface FlowgateServer {
  readonly server: Server;
  /** The request handler, to mount on another server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Listens; resolves with the base URL (`http://127.0.0.1:8080`). */
  listen(port?: number, host?: string): Promise<string>;
  /** Base URL once listening. */
  readonly url: string | undefined;
  /** True once `close()` started: `/readyz` answers 503 and new calls get 503. */
  readonly draining: boolean;
  /** Model calls in flight now. */
  inFlight(): number;
  /**
   * Graceful stop: stop accepting connections, answer new requests on open ones with 503, let the
   * calls in flight finish (up to `limits.drainTimeoutMs`, then cut them), close every connection,
   * then `onClose`. Safe to call twice.
   */
  close(): Promise<void>;
}

const ROUTE_CHAT = '/v1/chat/completions';
const ROUTE_EMBEDDINGS = '/v1/embeddings';
const ROUTE_MODELS = '/v1/models';

const SSE_HEAD = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  // Tells nginx-style proxies in front not to buffer the stream.
  'x-accel-buffering': 'no',
};
const DONE = 'data: [DONE]\n\n';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined || h.length < 8) return undefined;
  if (h.startsWith('Bearer ')) return h.slice(7).trim();
  if (h.slice(0, 7).toLowerCase() === 'bearer ') return h.slice(7).trim();
  return undefined;
}

/**
 * An OpenAI-compatible HTTP server in front of a gateway, on `node:http`:
 * `POST /v1/chat/completions` (JSON and SSE), `POST /v1/embeddings`, `GET /v1/models[/{id}]`,
 * `GET /metrics`, `/healthz`, `/readyz`, `/admin/performance`.
 */
export function createServer(options: ServerOptions): FlowgateServer {
  const { gateway } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const keys = options.keys ?? new Map<string, string>();
  const open = keys.size === 0;
  const tenants = new Map<string, CallMetadata>();
  for (const [key, tenant] of keys) tenants.set(key, Object.freeze({ tenant }));
  const stats = new RequestStats();
  stats.observe((options.meterProvider ?? metrics.getMeterProvider()).getMeter('@flowgate/server'));
  const startedAt = Date.now();
  const modelsBody = JSON.stringify({
    object: 'list',
    data: (options.models ?? []).map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by })),
  });

  let ready = false;
  let readyError: string | undefined;
  gateway.ready().then(
    () => {
      ready = true;
    },
    (err: unknown) => {
      readyError = err instanceof Error ? err.message : String(err);
    },
  );

  let draining = false;
  let closing: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;
  let url: string | undefined;

  /** Response headers every answer gets while draining: the client must not reuse the connection. */
  const closeHeader = (): Record<string, string> | undefined => (draining ? { connection: 'close' } : undefined);

  /** Answers an error the server decided itself; `model` marks a refused model call (it counts in the day's calls). */
  const answerError = (res: ServerResponse, route: string, err: unknown, model = false) => {
    const status = sendError(res, err, closeHeader());
    stats.record(route, status, model);
  };

  /**
   * Admission for a model call: draining, auth, concurrency. Returns the call options (with the
   * signal that aborts the upstream call when the client goes away), or undefined when it answered.
   */
  const admit = (req: IncomingMessage, res: ServerResponse, route: string): CallOptions | undefined => {
    if (draining) {
      answerError(
        res,
        route,
        new HttpError(503, 'server_error', 'the gateway is shutting down', 'service_unavailable', null, {
          'retry-after': '1',
        }),
        true,
      );
      return undefined;
    }
    let metadata: CallMetadata | undefined;
    if (!open) {
      const key = bearer(req);
      metadata = key === undefined ? undefined : tenants.get(key);
      if (metadata === undefined) {
        answerError(
          res,
          route,
          new HttpError(
            401,
            'invalid_request_error',
            key === undefined
              ? 'missing API key: send "Authorization: Bearer <key>"'
              : 'incorrect API key provided for this gateway',
            'invalid_api_key',
          ),
          true,
        );
        return undefined;
      }
    }
    if (stats.inFlight >= limits.maxConcurrent) {
      stats.shed++;
      answerError(
        res,
        route,
        new HttpError(
          429,
          'rate_limit_error',
          `the gateway is at its limit of ${limits.maxConcurrent} concurrent calls; retry shortly`,
          'server_overloaded',
          null,
          { 'retry-after': '1' },
        ),
        true,
      );
      return undefined;
    }
    stats.inFlight++;
    // The gateway adopts this controller as the call's own (no second controller chained to it), so it
    // is aborted with the error the call then fails with: what the gateway makes of a plain abort.
    const controller = new AbortController();
    // 'close' comes once per response: after it ended, or when the client went away first.
    res.on('close', () => {
      stats.inFlight--;
      if (!res.writableEnded) controller.abort(clientGone());
      stats.record(route, res.headersSent ? res.statusCode : 499, true);
      if (stats.inFlight === 0 && onIdle) onIdle();
    });
    return metadata === undefined
      ? { signal: controller.signal, controller }
      : { signal: controller.signal, controller, metadata };
  };

  const withUser = (callOptions: CallOptions, body: Record<string, unknown>): void => {
    // The end user named in the request travels with the tenant (the cache may scope by it).
    if (typeof body.user === 'string' && body.user.length > 0) {
      callOptions.metadata = { ...callOptions.metadata, user: body.user };
    }
  };

  const readBody = async (req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> => {
    try {
      return await readJsonBody(req, limits.maxBodyBytes);
    } catch (err) {
      if (!res.writableEnded && !res.destroyed) sendError(res, err, closeHeader());
      return undefined;
    }
  };

  const chat = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const callOptions = admit(req, res, ROUTE_CHAT);
    if (!callOptions) return;
    // readBody inlined: one async frame less per call on the hot route.
    let body: Record<string, unknown>;
    try {
      body = await readJsonBody(req, limits.maxBodyBytes);
    } catch (err) {
      if (!res.writableEnded && !res.destroyed) sendError(res, err, closeHeader());
      return;
    }
    withUser(callOptions, body);
    if (body.stream === true) return streamChat(res, body, callOptions);
    try {
      const response = await gateway.complete(body as unknown as ChatCompletionRequest, callOptions);
      const callId = response.flowgate.callId;
      // The answer goes out in exactly the OpenAI shape; what the gateway learned is in headers.
      (response as { flowgate?: unknown }).flowgate = undefined;
      if (res.writableEnded || res.destroyed) return;
      const text = JSON.stringify(response);
      res.writeHead(
        200,
        draining
          ? {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(text),
              'x-flowgate-call-id': callId,
              connection: 'close',
            }
          : {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(text),
              'x-flowgate-call-id': callId,
            },
      );
      res.end(text);
    } catch (err) {
      if (!res.writableEnded && !res.destroyed) sendError(res, err, closeHeader());
    }
  };

  /**
   * SSE: the status and headers go out with the first chunk, so that a failure before it (no
   * provider, upstream 429, invalid request) keeps its HTTP status and error body. Then every chunk
   * is written as it arrives. A failure after the first chunk ends the stream with one
   * `data: {"error": {...}}` event and no `[DONE]` (the official clients throw an APIError on it).
   */
  const streamChat = async (res: ServerResponse, body: Record<string, unknown>, callOptions: CallOptions) => {
    const stream = gateway.stream(body as unknown as ChatCompletionRequest, callOptions);
    const it = stream[Symbol.asyncIterator]();
    let r: IteratorResult<unknown>;
    try {
      r = await it.next();
    } catch (err) {
      if (!res.writableEnded && !res.destroyed) sendError(res, err, closeHeader());
      return;
    }
    if (res.destroyed) {
      await it.return?.();
      return;
    }
    // The provider always asks upstream for the usage chunk (`choices: []`); the client gets it only if it asked.
    const wantUsage = isObj(body.stream_options) && body.stream_options.include_usage === true;
    res.writeHead(
      200,
      draining
        ? { ...SSE_HEAD, 'x-flowgate-call-id': stream.meta.callId, connection: 'close' }
        : { ...SSE_HEAD, 'x-flowgate-call-id': stream.meta.callId },
    );
    try {
      while (!r.done) {
        const chunk = r.value as { choices: unknown[] };
        if (wantUsage || chunk.choices.length > 0) {
          if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await whenWritable(res);
        }
        if (res.destroyed) {
          // The client left: stop reading, which closes the upstream stream.
          await it.return?.();
          return;
        }
        r = await it.next();
      }
      res.end(DONE);
    } catch (err) {
      if (!res.destroyed) res.end(`data: ${errorJson(errorAnswer(err))}\n\n`);
    }
  };

  const embeddings = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const callOptions = admit(req, res, ROUTE_EMBEDDINGS);
    if (!callOptions) return;
    const body = await readBody(req, res);
    if (!body) return;
    try {
      validateEmbeddingRequest(body);
      withUser(callOptions, body);
      const response = await gateway.embed(body as unknown as EmbeddingRequest, callOptions);
      if (res.writableEnded || res.destroyed) return;
      sendJson(res, 200, JSON.stringify(response), closeHeader());
    } catch (err) {
      if (!res.writableEnded && !res.destroyed) sendError(res, err, closeHeader());
    }
  };

  const json = (res: ServerResponse, route: string, status: number, value: unknown) => {
    sendJson(res, status, typeof value === 'string' ? value : JSON.stringify(value), closeHeader());
    stats.record(route, status, false);
  };

  const notAllowed = (res: ServerResponse, route: string, allow: string) =>
    answerError(
      res,
      route,
      new HttpError(405, 'invalid_request_error', `use ${allow} on ${route}`, 'method_not_allowed', null, {
        allow,
      }),
    );

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const method = req.method;
    switch (path) {
      case ROUTE_CHAT:
        if (method === 'POST') void chat(req, res);
        else notAllowed(res, path, 'POST');
        return;
      case ROUTE_EMBEDDINGS:
        if (method === 'POST') void embeddings(req, res);
        else notAllowed(res, path, 'POST');
        return;
      case ROUTE_MODELS:
        if (method === 'GET') json(res, path, 200, modelsBody);
        else notAllowed(res, path, 'GET');
        return;
      case '/healthz':
        json(res, path, 200, { status: 'ok' });
        return;
      case '/readyz':
        if (ready && !draining) json(res, path, 200, { status: 'ready' });
        else
          json(res, path, 503, {
            status: draining ? 'draining' : readyError !== undefined ? 'failed' : 'starting',
            ...(readyError !== undefined ? { error: readyError } : {}),
          });
        return;
      case '/metrics':
        if (method !== 'GET') notAllowed(res, path, 'GET');
        else if (options.metricsHandler) {
          stats.record(path, 200, false);
          options.metricsHandler(req, res);
        } else {
          answerError(
            res,
            path,
            new HttpError(404, 'invalid_request_error', 'metrics are off (telemetry is disabled)', 'not_found'),
          );
        }
        return;
      case '/dashboard':
        if (method !== 'GET' && method !== 'HEAD') notAllowed(res, path, 'GET');
        else {
          stats.record(path, 200, false);
          serveDashboard(req, res);
        }
        return;
      case '/admin/performance':
        if (method !== 'GET') notAllowed(res, path, 'GET');
        else
          json(
            res,
            path,
            200,
            performanceSummary({ gateway, plugins: options.plugins ?? [], counts: stats.counts(), startedAt }),
          );
        return;
      default:
        if (path.startsWith(`${ROUTE_MODELS}/`) && method === 'GET') {
          const id = decodeURIComponentSafe(path.slice(ROUTE_MODELS.length + 1));
          const m = options.models?.find((e) => e.id === id);
          if (m) json(res, '/v1/models/{model}', 200, { id: m.id, object: 'model', created: 0, owned_by: m.owned_by });
          else
            answerError(
              res,
              '/v1/models/{model}',
              new HttpError(
                404,
                'invalid_request_error',
                `the model "${id}" does not exist`,
                'model_not_found',
                'model',
              ),
            );
          return;
        }
        answerError(
          res,
          'unknown',
          new HttpError(404, 'invalid_request_error', `unknown request URL: ${method} ${path}`, 'unknown_url'),
        );
    }
  };

  const server = createHttpServer({ noDelay: true, keepAliveTimeout: 65_000 }, handler);
  // Slightly above keep-alive, as Node recommends, so a reused socket is not cut mid-request.
  server.headersTimeout = 66_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Unparseable HTTP: answer 400 if the socket is still usable, else just drop it.
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const body = errorJson(
      errorAnswer(new HttpError(400, 'invalid_request_error', 'malformed HTTP request', 'bad_request')),
    );
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  return {
    server,
    handler,
    get url() {
      return url;
    },
    get draining() {
      return draining;
    },
    inFlight: () => stats.inFlight,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: 4096 }, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
          resolve(url);
        });
      });
    },
    close() {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          server.close(() => resolve());
        });
        server.closeIdleConnections();
        if (stats.inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            onIdle = resolve;
            timer = setTimeout(resolve, limits.drainTimeoutMs);
          });
          clearTimeout(timer);
        }
        // Whatever is left (calls past the grace period, idle keep-alive sockets) is cut now.
        server.closeAllConnections();
        await closed;
        await options.onClose?.();
      })();
      return closing;
    },
  };
}

/** The reason a call is aborted with when its client went away (as the gateway wraps a plain `abort()`). */
function clientGone(): AbortError {
  return new AbortError('the call was aborted', new DOMException('This operation was aborted', 'AbortError'));
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Embedding requests are checked here (the core validates chat requests only). */
function validateEmbeddingRequest(body: Record<string, unknown>): void {
  const bad = (param: string, message: string) =>
    new HttpError(400, 'invalid_request_error', `invalid request: ${param}: ${message}`, null, param);
  if (typeof body.model !== 'string' || body.model.length === 0)
    throw bad('model', 'is required and must be a non-empty string');
  const input = body.input;
  if (typeof input === 'string') {
    if (input.length === 0) throw bad('input', 'must not be empty');
  } else if (Array.isArray(input)) {
    if (input.length === 0) throw bad('input', 'must not be an empty array');
    if (!input.every((s) => typeof s === 'string' && s.length > 0))
      throw bad('input', 'must be a string or an array of non-empty strings');
  } else {
    throw bad('input', 'is required: a string or an array of strings');
  }
  const dims = body.dimensions;
  if (dims !== undefined && dims !== null && (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1))
    throw bad('dimensions', 'must be a positive integer');
  const format = body.encoding_format;
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64')
    throw bad('encoding_format', 'must be "float" or "base64"');
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string')
    throw bad('user', 'must be a string');
}
