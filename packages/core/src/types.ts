import type { Meter, Span, Tracer } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from './wire.js';

/** Typed key for plugin state on a context; create one per plugin with `createStateKey`. */
export interface StateKey<T> {
  readonly symbol: symbol;
  /** Phantom field: carries `T`, never set. */
  readonly __type?: T;
}

/** Who the call is for. The server fills it from the API key; library users pass it per call. */
export interface CallMetadata {
  tenant?: string;
  user?: string;
  /** Free-form labels (app name, prompt tag, locale...). */
  tags?: Record<string, string>;
}

/**
 * Per-call options. Plugins add their own fields by module augmentation, for example
 * `declare module '@flowgate/core' { interface CallOptions { cache?: CacheCallOptions } }`,
 * and read them from `ctx.options`.
 */
export interface CallOptions {
  /** Aborts the call: the upstream request, any stream, and frees its connection. */
  signal?: AbortSignal;
  /**
   * A controller the call adopts as its own instead of making one chained to `signal` (for servers
   * that make a controller per request anyway: one controller and one listener less per call). Abort
   * it with an `AbortError` to cancel the call (that is the reason the call's signal then carries);
   * the gateway aborts it with a `TimeoutError` at the deadline, or as the call is cancelled.
   */
  controller?: AbortController;
  /** Deadline for the whole call, retries and fallbacks included. */
  timeoutMs?: number;
  metadata?: CallMetadata;
}

/**
 * What a call learned on its way, returned as `response.flowgate` / `stream.meta`. Plugins add
 * fields by module augmentation (`declare module '@flowgate/core' { interface CallMeta { ... } }`).
 */
export interface CallMeta {
  /** Id of this call (also on the span as `flowgate.call.id`). */
  callId: string;
  /** The provider id and model that produced the answer. */
  provider?: string;
  model?: string;
  /** One entry per attempt made, in order. */
  attempts: AttemptInfo[];
}

export interface AttemptInfo {
  provider: string;
  model: string;
  outcome: 'ok' | 'error';
  errorCode?: string;
  durationMs: number;
}

/** A whole answer, or a stream of chunks with a promise of the assembled answer. */
export type Reply = ResponseReply | StreamReply;

export interface ResponseReply {
  readonly type: 'response';
  readonly response: ChatCompletion;
}

export interface StreamReply {
  readonly type: 'stream';
  /** Single-use. Chunks pass through as they arrive; nothing buffers them. */
  readonly chunks: AsyncIterable<ChatCompletionChunk>;
  /** Resolves with the assembled answer (usage, finish reason) when the stream ends; rejects if it fails. */
  readonly response: Promise<ChatCompletion>;
}

export type Operation = 'chat';

/** The per-call context every hook and middleware receives. */
export interface CallContext {
  readonly operation: Operation;
  /** The request; `onRequest` hooks may replace it. Validated before any hook runs. */
  request: ChatCompletionRequest;
  /** True for `gateway.stream()`. */
  readonly streaming: boolean;
  /** Fires when the caller aborts or the deadline passes. */
  readonly signal: AbortSignal;
  /**
   * False when the call has neither a caller signal nor a deadline, so `signal` can never fire:
   * transports may then skip listening to it (a listener per request is measurable on the hot path).
   */
  readonly cancellable: boolean;
  /** Absolute deadline (ms since epoch, `Date.now()` clock), if the call has one. */
  readonly deadline: number | undefined;
  readonly metadata: CallMetadata;
  /** The options the caller passed (an empty object when none). */
  readonly options: CallOptions;
  /** The call span (CLIENT). Check `span.isRecording()` before computing attributes. */
  readonly span: Span;
  /**
   * HTTP dispatcher the providers send through (the pool plugin's, or undici's global dispatcher).
   * A call middleware may replace it for this call (for example with a fresh connection).
   */
  dispatcher: Dispatcher;
  readonly meta: CallMeta;
  /** `performance.now()` at the start of the call. */
  readonly startTime: number;
  get<T>(key: StateKey<T>): T | undefined;
  set<T>(key: StateKey<T>, value: T): void;
}

/** One target of a routing plan: which provider, and the model name to send it. */
export interface Target {
  readonly provider: Provider;
  readonly model: string;
  /** Router-defined identity of this deployment (for breakers, stats); defaults to `provider.id/model`. */
  readonly key?: string;
}

export interface AttemptContext extends CallContext {
  /**
   * Fires when the call is aborted or its deadline passes. An attempt middleware may replace it, for this
   * attempt only, with a signal of its own that also follows the call's (per-attempt timeouts, stall
   * detection, cancelling the losing attempt of a hedge); inner middleware and the provider then see the
   * replacement. Set `cancellable` to true with it.
   */
  signal: AbortSignal;
  /** False when `signal` can never fire. An attempt middleware that replaces `signal` sets it to true. */
  cancellable: boolean;
  readonly target: Target;
  /** 1-based attempt number within the call. */
  readonly attempt: number;
  /** The attempt span (child of the call span). */
  readonly attemptSpan: Span;
  /** The request as it is sent to this target (model replaced by the target's). */
  readonly targetRequest: ChatCompletionRequest;
}

/** `next` continues the onion; calling it twice throws `FLOWGATE_ERR_MIDDLEWARE`. */
export type Next = () => Promise<Reply>;
export type CallMiddleware = (ctx: CallContext, next: Next) => Promise<Reply>;
export type AttemptMiddleware = (ctx: AttemptContext, next: Next) => Promise<Reply>;

export type RequestHook = (ctx: CallContext) => void | Promise<void>;
export type ResponseObserver = (ctx: CallContext, response: ChatCompletion) => void | Promise<void>;
export type ErrorObserver = (ctx: CallContext, error: unknown) => void | Promise<void>;

/**
 * The targets of a call, in order. An array is the plain case. An (async) iterable is pulled one
 * target at a time, after the previous attempt failed, so a router can decide the next step from
 * what just happened: retry the same target after a backoff, skip an open circuit, stop early.
 */
export type Plan = readonly Target[] | Iterable<Target> | AsyncIterable<Target>;

/**
 * Decides where a call goes. The gateway tries the planned targets in order while `shouldFallback`
 * (default: `error.retryable`) says to go on; the last error is thrown when the plan runs out.
 */
export interface Router {
  readonly name: string;
  plan(ctx: CallContext): Plan | Promise<Plan>;
  shouldFallback?(error: unknown, ctx: AttemptContext): boolean;
}

/**
 * The provider contract: map a canonical request to one upstream and back.
 * Implemented by `@flowgate/providers`; any object of this shape works.
 */
export interface Provider {
  /** Unique id within a gateway, e.g. `openai` or `mock-a`. */
  readonly id: string;
  /** `gen_ai.provider.name` value: `openai`, `anthropic`, ... */
  readonly system: string;
  /** Upstream host and port, for `server.address` / `server.port`. */
  readonly address?: { host: string; port: number };
  /** Base URL origin, so that a pool can key connections by it. */
  readonly origin?: string;
  serves(model: string): boolean;
  /** Send one attempt. Resolve once the upstream accepted it (status and headers for a stream). */
  send(ctx: AttemptContext): Promise<Reply>;
  embed?(request: EmbeddingRequest, ctx: { signal: AbortSignal; dispatcher: Dispatcher }): Promise<EmbeddingResponse>;
  close?(): Promise<void>;
}

/** What a plugin's `setup` may register. Registering after `setup` returned throws. */
export interface PluginHost {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly providers: readonly Provider[];
  /** Another plugin by name (for cooperating plugins); `undefined` when absent. */
  getPlugin<P extends Plugin = Plugin>(name: string): P | undefined;
  /** Runs in registration order before routing; may rewrite `ctx.request` or throw to refuse the call. */
  onRequest(hook: RequestHook): void;
  /** Call middleware: the first registered is the outermost. */
  useCall(middleware: CallMiddleware): void;
  /** Attempt middleware, run once per target tried: the first registered is the outermost. */
  useAttempt(middleware: AttemptMiddleware): void;
  setRouter(router: Router): void;
  /**
   * Runs one more attempt of a call in progress at `target`, outside the router's plan: through the attempt
   * middleware and `provider.send`, with its own attempt span, attempt number and entry in
   * `ctx.meta.attempts`. It resolves with the reply or rejects with the error; `shouldFallback` is not asked.
   * For routers that race attempts (hedging): call it from call or attempt middleware, or from a plan.
   * The call's provider (`meta.provider`) is the target of the last attempt that succeeded.
   */
  runAttempt(ctx: CallContext, target: Target): Promise<Reply>;
  setDispatcher(dispatcher: Dispatcher): void;
  /** Observers never fail a call: a throw is logged and recorded as a span event. */
  onResponse(observer: ResponseObserver): void;
  onError(observer: ErrorObserver): void;
  /** Run at `gateway.close()`, plugins in reverse order of setup. */
  onClose(fn: () => void | Promise<void>): void;
}

/**
 * A plugin, made by a factory function (`cache(options)`, `router(options)`).
 * `setup` registers synchronously; a returned promise is start-up work (warm-up) that calls wait for.
 */
export interface Plugin {
  readonly name: string;
  /** Names of plugins that must be installed before this one. */
  readonly dependsOn?: readonly string[];
  setup(host: PluginHost): void | Promise<void>;
}
