import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** One injected failure. `'ok'` (scripts only) means "answer normally". */
export type Fault =
  | 'ok'
  | {
      type: 'status';
      status: number;
      /** Seconds, sent as the `Retry-After` header. */
      retryAfter?: number;
      /** Milliseconds, sent as the `retry-after-ms` header. */
      retryAfterMs?: number;
      message?: string;
      /** OpenAI `error.code`, e.g. `'context_length_exceeded'`. */
      code?: string;
    }
  /** Destroy the socket without responding (connection reset). */
  | { type: 'reset' }
  /** Accept the request and never send a byte, until the client goes away or the server closes. */
  | { type: 'hang' }
  /** Streamed: send `afterChunks` SSE events, then stop sending and keep the socket open. */
  | { type: 'stall'; afterChunks: number }
  /** 200 with a body that is not valid JSON (streamed: one `data:` event with invalid JSON). */
  | { type: 'malformed-json' }
  /** Streamed: 200 `text/event-stream` whose body is not SSE framing and not JSON. */
  | { type: 'malformed-sse' }
  /** Streamed: send some events (`afterChunks`, default half), then end cleanly without the terminator. */
  | { type: 'truncate'; afterChunks?: number };

/** A fault injected with probability `rate` (0..1). */
export interface FaultRule {
  fault: Exclude<Fault, 'ok'>;
  rate: number;
}

export interface ModelBehavior {
  /** The answer. Default: `Mock answer to: <first 12 words of the last user text>`. */
  text?: string | ((lastUserText: string) => string);
  /** Delay before the response starts (headers). For whole responses: total delay before the body. */
  latencyMs?: number | { min: number; max: number };
  /** Streamed: delay between the headers and the first content event. */
  ttftMs?: number;
  /** Streamed: pace of content events after the first. Default: as fast as possible. */
  tokensPerSecond?: number;
  /** Prompt tokens reported as read from the prompt cache. */
  cachedTokens?: number;
  /** Anthropic: prompt tokens reported as written to the prompt cache. */
  cacheCreationTokens?: number;
  /** Faults by rate, checked in order with the seeded PRNG. */
  faults?: FaultRule[];
  /** Faults by script: one consumed per request, in order; none once exhausted. */
  script?: Fault[];
  /** Embeddings: vector length when the request does not ask for `dimensions`. Default 64. */
  dimensions?: number;
}

export interface MockProviderOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Behaviour per model name; a model not listed here is served with `defaults`. */
  models?: Record<string, ModelBehavior>;
  /** Behaviour for every model; a model's own entry is merged over it. */
  defaults?: ModelBehavior;
  /** Seed of the PRNG that draws rate faults. Default 1. */
  seed?: number;
  /** If set, require `authorization: Bearer KEY` (OpenAI) or `x-api-key: KEY` (Anthropic); else 401. */
  apiKey?: string;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Idle keep-alive timeout of connections. Default 65 000 ms. */
  keepAliveTimeoutMs?: number;
}

export interface MockRequestRecord {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when there was none or it was not JSON). */
  body: unknown;
}

export interface MockStats {
  /** All requests received. */
  requests: number;
  byPath: Record<string, number>;
  byModel: Record<string, number>;
  /** Streamed responses that sent their 200 headers. */
  streamsStarted: number;
  /** Streamed responses that sent their terminator (`[DONE]` / `message_stop`). */
  streamsCompleted: number;
  /** Streamed responses whose client closed the connection before the stream ended. */
  streamsAborted: number;
  /** Requests (streamed or not) whose client went away before the response ended, e.g. on `hang`. */
  requestsAborted: number;
  /** SSE events written, across all streams (each `data:` event, including `[DONE]` and `ping`). */
  chunksSent: number;
  /** Injected faults by kind: `status:429`, `reset`, `hang`, `stall`, `malformed-json`, `malformed-sse`, `truncate`. */
  faultsInjected: Record<string, number>;
  /** TCP connections accepted. */
  connections: number;
  /** TCP connections open now. */
  activeConnections: number;
  /** The most recent request. */
  lastRequest: MockRequestRecord | undefined;
}

export interface MockProvider {
  /** e.g. `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly server: HttpServer | HttpsServer;
  /** Stop listening and destroy every socket, including hanging and stalled ones. */
  close(): Promise<void>;
  /** A fresh snapshot of the counters. */
  stats(): MockStats;
  /** Set a model's behaviour (`'*'` = the defaults): merged over the current one, or replacing it. */
  configure(model: string, behavior: ModelBehavior, options?: { replace?: boolean }): void;
  /** Replace a model's fault script (`'*'` = a script shared by models that have none). */
  script(model: string, faults: Fault[]): void;
  /** Zero the stats, re-arm scripts from the configured behaviours, reseed the PRNG, restart ids. */
  reset(): void;
}
