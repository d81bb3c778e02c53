import {
  type Attributes,
  type Context,
  context,
  createNoopMeter,
  diag,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type Dispatcher, getGlobalDispatcher } from 'undici';
import { Attempt, Call } from './call-context.js';
import { compose } from './compose.js';
import {
  AbortError,
  ConfigError,
  FlowgateError,
  GatewayClosedError,
  MiddlewareError,
  NoProviderError,
} from './errors.js';
import { nextCallId } from './ids.js';
import { type CoreInstruments, createCoreInstruments } from './instruments.js';
import { type Registry, setupPlugins } from './plugin-host.js';
import { responseToChunks } from './reply.js';
import * as sc from './semconv.js';
import { type GatewayStats, StatsRecorder } from './stats.js';
import type {
  AttemptContext,
  AttemptInfo,
  CallContext,
  CallMeta,
  CallOptions,
  Plan,
  Plugin,
  Provider,
  Reply,
  Router,
  StreamReply,
  Target,
} from './types.js';
import { validateRequest } from './validate.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from './wire.js';

export interface GatewayOptions {
  /** Upstream providers, in order of preference for the default router. */
  providers: Provider[];
  /** Plugins, set up in order. The first plugin's middleware is the outermost. */
  plugins?: Plugin[];
  /** Defaults to the global tracer provider (a no-op until an SDK registers one). */
  tracerProvider?: TracerProvider;
  /** Defaults to the global meter provider at creation time: start telemetry before creating the gateway. */
  meterProvider?: MeterProvider;
  /** Deadline for calls that do not pass `timeoutMs`. */
  defaultTimeoutMs?: number;
  /**
   * HTTP dispatcher for providers when no plugin (the pool) sets one. Default: undici's global
   * dispatcher (`setGlobalDispatcher` configures it); pass an Agent to be independent of it.
   */
  dispatcher?: Dispatcher;
  /** Window of `gateway.stats()`; default 60 s. */
  statsWindowMs?: number;
}

/** A whole answer with what the gateway learned on the way (provider, attempts, plugin data). */
export type GatewayResponse = ChatCompletion & { flowgate: CallMeta };

/**
 * A streamed call: iterate it for chunks as they arrive. `response` settles once the stream has been
 * read to its end (or failed); the stream can be read only once.
 */
export interface ChatStream extends AsyncIterable<ChatCompletionChunk> {
  readonly response: Promise<GatewayResponse>;
  readonly meta: CallMeta;
}

export interface Gateway {
  readonly providers: readonly Provider[];
  complete(request: ChatCompletionRequest, options?: CallOptions): Promise<GatewayResponse>;
  stream(request: ChatCompletionRequest, options?: CallOptions): ChatStream;
  embed(request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResponse>;
  /** Per operation and per provider latency and time-to-first-chunk over the sliding window. */
  stats(): GatewayStats;
  /** Resolves when every plugin's start-up work (such as pool warm-up) is done. Calls wait for it. */
  ready(): Promise<void>;
  /** Closes plugins in reverse order of setup, then the providers. Safe to call twice. */
  close(): Promise<void>;
}

const SCOPE = '@flowgate/core';
/** Marker: the attempt failed and the router wants the next target. */
const RETRY = Symbol('retry');
const NOOP_HISTOGRAM = createNoopMeter().createHistogram('noop');
const CLIENT_SPAN = Object.freeze({ kind: SpanKind.CLIENT });
const INTERNAL_SPAN = Object.freeze({ kind: SpanKind.INTERNAL });

interface Finish {
  response?: ChatCompletion;
  error?: unknown;
  ttfcMs?: number;
}

/**
 * Creates a gateway: validates the configuration, sets up the plugins, and composes the call and
 * attempt middleware once.
 *
 * @example
 * const gateway = createGateway({ providers: [openai({ apiKey: process.env.OPENAI_API_KEY })] });
 * const res = await gateway.complete({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function createGateway(options: GatewayOptions): Gateway {
  return new GatewayImpl(options);
}

class GatewayImpl implements Gateway {
  readonly providers: readonly Provider[];
  private readonly tracer;
  private readonly instruments: CoreInstruments;
  private readonly metricsOn: boolean;
  private readonly registry: Registry;
  private readonly router: Router;
  private readonly dispatcher: Dispatcher;
  private readonly runChain: (call: CallContext) => Promise<Reply>;
  private readonly runAttempt: (ctx: AttemptContext) => Promise<Reply>;
  private readonly statsRecorder: StatsRecorder;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly readyPromise: Promise<void>;
  private started = false;
  private spanModel: string | undefined;
  private spanName = '';
  private closing: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    if (!options || !Array.isArray(options.providers) || options.providers.length === 0) {
      throw new ConfigError('createGateway needs at least one provider in `providers`');
    }
    const ids = new Set<string>();
    for (const p of options.providers) {
      if (typeof p?.id !== 'string' || typeof p.send !== 'function' || typeof p.serves !== 'function') {
        throw new ConfigError('a provider must have a string `id` and `serves`/`send` functions');
      }
      if (ids.has(p.id)) throw new ConfigError(`two providers have the id "${p.id}"; give one an explicit \`id\``);
      ids.add(p.id);
    }
    this.providers = Object.freeze([...options.providers]);
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
    this.instruments = createCoreInstruments(meter);
    // With no SDK the instruments are the API's shared no-op: skip building metric attributes at all.
    this.metricsOn = this.instruments.duration !== NOOP_HISTOGRAM;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.statsRecorder = new StatsRecorder(options.statsWindowMs);

    this.registry = setupPlugins(options.plugins ?? [], this.providers, this.tracer, meter);
    this.router = this.registry.router ?? this.defaultRouter();
    this.dispatcher = this.registry.dispatcher ?? options.dispatcher ?? getGlobalDispatcher();
    this.runAttempt = compose(this.registry.attemptMiddleware, (ctx) => ctx.target.provider.send(ctx));
    this.registry.attemptRunner = (ctx, target) => this.extraAttempt(ctx, target);
    // Every context on this chain is a `Call`; middleware sees it through the `CallContext` interface.
    this.runChain = compose(this.registry.callMiddleware, (ctx) => this.attemptAll(ctx as Call));
    if (this.registry.startup.length === 0) {
      this.started = true;
      this.readyPromise = Promise.resolve();
    } else {
      this.readyPromise = Promise.all(this.registry.startup).then(() => {
        this.started = true;
      });
      this.readyPromise.catch(() => {});
    }
  }

  private defaultRouter(): Router {
    const providers = this.providers;
    // Calls usually repeat a model: the last plan is reused when it names the same target (frozen,
    // so no reader can change it); `serves` is still asked every time, it may change its mind.
    let lastPlan: readonly [Target] | undefined;
    return {
      name: 'first-match',
      plan(ctx) {
        const model = ctx.request.model;
        for (const provider of providers) {
          if (!provider.serves(model)) continue;
          const last = lastPlan?.[0];
          if (last?.provider === provider && last.model === model) return lastPlan!;
          lastPlan = Object.freeze([Object.freeze({ provider, model })] as const);
          return lastPlan;
        }
        throw new NoProviderError(model);
      },
    };
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  stats(): GatewayStats {
    return this.statsRecorder.snapshot();
  }

  // ---- a call ------------------------------------------------------------------------------

  private begin(request: ChatCompletionRequest, options: CallOptions | undefined, streaming: boolean): Call {
    if (this.closing) throw new GatewayClosedError();
    validateRequest(request);
    const span = this.tracer.startSpan(this.chatSpanName(request.model), CLIENT_SPAN);
    const call = new Call(request, streaming, options, span, this.dispatcher, nextCallId(), this.defaultTimeoutMs);
    if (span.isRecording()) {
      const attributes: Attributes = {
        [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
        [sc.ATTR_GEN_AI_REQUEST_MODEL]: request.model,
        [sc.ATTR_FLOWGATE_CALL_ID]: call.meta.callId,
        [sc.ATTR_FLOWGATE_STREAM]: streaming,
      };
      const maxTokens = request.max_completion_tokens ?? request.max_tokens;
      if (maxTokens != null) attributes[sc.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
      if (request.temperature != null) attributes[sc.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
      if (request.top_p != null) attributes[sc.ATTR_GEN_AI_REQUEST_TOP_P] = request.top_p;
      if (request.seed != null) attributes[sc.ATTR_GEN_AI_REQUEST_SEED] = request.seed;
      if (call.metadata.tenant !== undefined) attributes[sc.ATTR_FLOWGATE_TENANT] = call.metadata.tenant;
      span.setAttributes(attributes);
    }
    return call;
  }

  /** `chat {model}`, rebuilt only when the model changes (no string per call). */
  private chatSpanName(model: string): string {
    if (model !== this.spanModel) {
      this.spanModel = model;
      this.spanName = `${sc.GEN_AI_OPERATION_CHAT} ${model}`;
    }
    return this.spanName;
  }

  private run(call: Call): Promise<Reply> {
    if (this.started && this.registry.requestHooks.length === 0) return this.runChain(call);
    return this.runWithHooks(call);
  }

  /** Request hooks in order; stays synchronous while every hook returns nothing (the usual case). */
  private runWithHooks(call: Call): Promise<Reply> {
    if (!this.started) return this.readyPromise.then(() => this.runHooksFrom(call, 0));
    return this.runHooksFrom(call, 0);
  }

  private runHooksFrom(call: Call, from: number): Promise<Reply> {
    const hooks = this.registry.requestHooks;
    for (let i = from; i < hooks.length; i++) {
      let r: void | Promise<void>;
      try {
        r = hooks[i]!(call);
      } catch (err) {
        return Promise.reject(err);
      }
      if (r) return r.then(() => this.runHooksFrom(call, i + 1));
    }
    return this.runChain(call);
  }

  /** The end of the call onion: plan, then try targets in order while the router says to go on. */
  private attemptAll(call: Call): Promise<Reply> {
    let planned: Plan | Promise<Plan>;
    try {
      planned = this.router.plan(call);
    } catch (err) {
      return Promise.reject(err);
    }
    // The common case, one target (the default router): its failure is the call's, no fallback to decide.
    if (isPlanNow(planned) && Array.isArray(planned) && planned.length === 1) {
      return this.attemptOnce(call, (planned as readonly Target[])[0]!);
    }
    return this.attemptPlan(call, planned);
  }

  private async attemptPlan(call: Call, planned: Plan | Promise<Plan>): Promise<Reply> {
    const plan = isPlanNow(planned) ? planned : await planned;
    if (Array.isArray(plan)) {
      const targets = plan as readonly Target[];
      if (targets.length === 0) throw new NoProviderError(call.request.model);
      for (let i = 0; ; i++) {
        const last = i === targets.length - 1;
        const outcome = await this.tryTarget(call, targets[i]!, last);
        if (outcome !== RETRY) return outcome;
      }
    }
    return this.attemptIterable(call, plan as Iterable<Target> | AsyncIterable<Target>);
  }

  /** Pulls targets one at a time: the router sees each failure before it names the next target. */
  private async attemptIterable(call: Call, plan: Iterable<Target> | AsyncIterable<Target>): Promise<Reply> {
    let attempt = 0;
    let lastError: unknown;
    for await (const target of plan) {
      attempt++;
      const outcome = await this.tryTarget(call, target, false);
      if (outcome !== RETRY) return outcome;
      lastError = call.lastError;
    }
    if (attempt === 0) throw new NoProviderError(call.request.model);
    throw lastError;
  }

  /** One attempt. Resolves with the reply, or RETRY when the router wants the next target; else throws. */
  private tryTarget(call: Call, target: Target, last: boolean): Promise<Reply | typeof RETRY> {
    return this.attemptOnce(call, target).catch((err: unknown) => {
      const goOn = this.router.shouldFallback ? this.router.shouldFallback(err, call.lastAttempt!) : isRetryable(err);
      if (last || !goOn || call.signal.aborted) throw err;
      return RETRY;
    });
  }

  /** `host.runAttempt`: one attempt outside the plan, for routers that race attempts. No fallback decision. */
  private extraAttempt(ctx: CallContext, target: Target): Promise<Reply> {
    const call = ctx instanceof Call ? ctx : ctx instanceof Attempt ? ctx.call : undefined;
    if (!call) return Promise.reject(new MiddlewareError('runAttempt needs the context of a call in progress'));
    return this.attemptOnce(call, target);
  }

  /** Runs the attempt chain for one target, with its span and its entry in `meta.attempts`. */
  private async attemptOnce(call: Call, target: Target): Promise<Reply> {
    if (call.signal.aborted) throw call.signal.reason;
    const actx = this.attemptContext(call, target, ++call.attemptCount);
    const started = performance.now();
    try {
      const reply = actx.attemptSpan.isRecording()
        ? await context.with(trace.setSpan(context.active(), actx.attemptSpan), this.runAttempt, undefined, actx)
        : await this.runAttempt(actx);
      // With attempts racing (`host.runAttempt`), the one that answered is the call's provider.
      call.lastTarget = target;
      if (reply.type === 'response') this.endAttempt(actx, started, undefined);
      else
        reply.response.then(
          () => this.endAttempt(actx, started, undefined),
          (err: unknown) => this.endAttempt(actx, started, err),
        );
      return reply;
    } catch (err) {
      this.endAttempt(actx, started, err);
      call.lastError = err;
      call.lastAttempt = actx;
      throw err;
    }
  }

  private attemptContext(call: Call, target: Target, attempt: number): Attempt {
    call.lastTarget = target;
    let attemptSpan: Span = call.span;
    if (call.span.isRecording()) {
      const parent: Context = trace.setSpan(context.active(), call.span);
      // The provider's name and address go on the call span; an attempt names its target only.
      attemptSpan = this.tracer.startSpan(`attempt ${target.provider.id}`, INTERNAL_SPAN, parent);
      // Set after the start, as on the call span: attributes given at the start the SDK cleans twice.
      attemptSpan.setAttributes({
        [sc.ATTR_FLOWGATE_ATTEMPT]: attempt,
        [sc.ATTR_FLOWGATE_PROVIDER_ID]: target.provider.id,
        [sc.ATTR_GEN_AI_REQUEST_MODEL]: target.model,
      });
    }
    return new Attempt(call, target, attempt, attemptSpan);
  }

  private endAttempt(actx: Attempt, started: number, err: unknown): void {
    const info: AttemptInfo = {
      provider: actx.target.provider.id,
      model: actx.target.model,
      outcome: err === undefined ? 'ok' : 'error',
      durationMs: performance.now() - started,
    };
    if (err !== undefined) info.errorCode = errorType(err);
    actx.meta.attempts.push(info);
    const span = actx.attemptSpan;
    if (span === actx.span || !span.isRecording()) return;
    if (err !== undefined) markError(span, err);
    span.end();
  }

  complete = async (request: ChatCompletionRequest, options?: CallOptions): Promise<GatewayResponse> => {
    const call = this.begin(request, options, false);
    let response: ChatCompletion;
    try {
      const reply = await this.run(call);
      response = reply.type === 'response' ? reply.response : await drain(reply);
    } catch (err) {
      const finishing = this.finish(call, { error: err });
      if (finishing) await finishing;
      throw err;
    }
    const finishing = this.finish(call, { response });
    if (finishing) await finishing;
    return withMeta(response, call.meta);
  };

  stream = (request: ChatCompletionRequest, options?: CallOptions): ChatStream => {
    let call: Call;
    try {
      call = this.begin(request, options, true);
    } catch (err) {
      return failedStream(err);
    }
    return new GatewayStream(call, this.run(call), this);
  };

  /**
   * Records the outcome everywhere (span, metrics, stats), runs the observers, then ends the call.
   * Returns a promise only when there are observers to wait for (no await on the plain path).
   */
  finish(call: Call, f: Finish): Promise<void> | undefined {
    const durationMs = performance.now() - call.startTime;
    const target = call.lastTarget;
    const ok = f.error === undefined;
    this.statsRecorder.record(call.operation, target?.provider.id, durationMs, f.ttfcMs, ok);
    const span = call.span;
    const recording = span.isRecording();
    const response = f.response;
    if (response) {
      call.meta.provider = target?.provider.id;
      call.meta.model = response.model;
    }
    if (recording) {
      const attributes: Attributes = {};
      if (target) {
        attributes[sc.ATTR_GEN_AI_PROVIDER_NAME] = target.provider.system;
        attributes[sc.ATTR_FLOWGATE_PROVIDER_ID] = target.provider.id;
        if (target.provider.address) {
          attributes[sc.ATTR_SERVER_ADDRESS] = target.provider.address.host;
          attributes[sc.ATTR_SERVER_PORT] = target.provider.address.port;
        }
      }
      if (response) {
        attributes[sc.ATTR_GEN_AI_RESPONSE_MODEL] = response.model;
        attributes[sc.ATTR_GEN_AI_RESPONSE_ID] = response.id;
        attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = response.choices.map((c) => c.finish_reason ?? '');
        if (response.usage) {
          attributes[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = response.usage.prompt_tokens;
          attributes[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = response.usage.completion_tokens;
        }
      }
      span.setAttributes(attributes);
      if (!response) markError(span, f.error);
    }
    if (this.metricsOn) this.recordMetrics(call, f, durationMs);
    const observing = response
      ? this.registry.responseObservers.length > 0 && this.observe(call, this.registry.responseObservers, response)
      : this.registry.errorObservers.length > 0 && this.observe(call, this.registry.errorObservers, f.error);
    if (!observing) return end(call);
    return observing.then(() => end(call));
  }

  private recordMetrics(call: Call, f: Finish, durationMs: number): void {
    const target = call.lastTarget;
    const { instruments } = this;
    const attrs = instruments.attributeSets.get(
      call.request.model,
      target?.provider,
      f.response?.model,
      f.response ? undefined : errorType(f.error),
    );
    instruments.duration.record(durationMs / 1000, attrs.base);
    if (f.ttfcMs !== undefined) instruments.timeToFirstChunk.record(f.ttfcMs / 1000, attrs.base);
    const usage = f.response?.usage;
    if (usage) {
      instruments.tokenUsage.record(usage.prompt_tokens, attrs.input);
      instruments.tokenUsage.record(usage.completion_tokens, attrs.output);
    }
    instruments.requests.add(call.request.model, target?.provider.system ?? 'none', outcomeOf(f.error));
  }

  /** Runs observers; a throw or rejection is logged and recorded on the span, never passed on. */
  /**
   * Runs observers; a throw or rejection is logged and recorded on the span, never passed on.
   * Returns a promise only when an observer returned one, so the plain path awaits nothing.
   */
  private observe<T>(
    call: Call,
    observers: readonly ((ctx: Call, value: T) => void | Promise<void>)[],
    value: T,
  ): Promise<void> | undefined {
    let pending: Promise<void>[] | undefined;
    for (const observer of observers) {
      try {
        const r = observer(call, value);
        if (r && typeof r.then === 'function') {
          pending ??= [];
          pending.push(r.catch((err) => reportObserverError(call, err)));
        }
      } catch (err) {
        reportObserverError(call, err);
      }
    }
    if (!pending) return undefined;
    return Promise.all(pending).then(() => undefined);
  }

  embed = async (request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResponse> => {
    if (this.closing) throw new GatewayClosedError();
    if (!this.started) await this.readyPromise;
    const provider = this.providers.find((p) => p.embed && p.serves(request.model));
    if (!provider?.embed) throw new NoProviderError(request.model);
    const span = this.tracer.startSpan(`embeddings ${request.model}`, { kind: SpanKind.CLIENT });
    const call = new Call(
      { model: request.model, messages: [] },
      false,
      options,
      span,
      this.dispatcher,
      nextCallId(),
      this.defaultTimeoutMs,
    );
    try {
      if (span.isRecording()) {
        span.setAttribute(sc.ATTR_GEN_AI_OPERATION_NAME, 'embeddings');
        span.setAttribute(sc.ATTR_GEN_AI_REQUEST_MODEL, request.model);
        span.setAttribute(sc.ATTR_GEN_AI_PROVIDER_NAME, provider.system);
      }
      const res = await provider.embed(request, { signal: call.signal, dispatcher: this.dispatcher });
      if (span.isRecording()) span.setAttribute(sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS, res.usage.prompt_tokens);
      return res;
    } catch (err) {
      markError(span, err);
      throw err;
    } finally {
      call.dispose();
      span.end();
    }
  };

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    await this.readyPromise.catch(() => {});
    const closers = this.registry.closers;
    for (let i = closers.length - 1; i >= 0; i--) {
      for (const fn of closers[i]!) {
        try {
          await fn();
        } catch (err) {
          diag.error('flowgate: a plugin failed to close', err);
        }
      }
    }
    for (const p of this.providers) {
      try {
        await p.close?.();
      } catch (err) {
        diag.error(`flowgate: provider "${p.id}" failed to close`, err);
      }
    }
  }
}

class GatewayStream implements ChatStream {
  readonly response: Promise<GatewayResponse>;
  readonly meta: CallMeta;
  private resolve!: (r: GatewayResponse) => void;
  private reject!: (e: unknown) => void;
  private read = false;

  constructor(
    private readonly call: Call,
    private readonly reply: Promise<Reply>,
    private readonly gateway: GatewayImpl,
  ) {
    this.meta = call.meta;
    this.response = new Promise<GatewayResponse>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.response.catch(() => {});
    reply.catch(() => {});
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.read) throw new TypeError('a stream can be read only once');
    this.read = true;
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<ChatCompletionChunk> {
    const { call, gateway } = this;
    let settled = false;
    let ttfcMs: number | undefined;
    try {
      const reply = await this.reply;
      const chunks: Iterable<ChatCompletionChunk> | AsyncIterable<ChatCompletionChunk> =
        reply.type === 'response' ? responseToChunks(reply.response) : reply.chunks;
      for await (const chunk of chunks) {
        if (ttfcMs === undefined && carriesOutput(chunk)) ttfcMs = performance.now() - call.startTime;
        yield chunk;
      }
      const response = reply.type === 'response' ? reply.response : await reply.response;
      settled = true;
      await gateway.finish(call, { response, ttfcMs });
      this.resolve(withMeta(response, call.meta));
    } catch (err) {
      settled = true;
      await gateway.finish(call, { error: err, ttfcMs });
      this.reject(err);
      throw err;
    } finally {
      if (!settled) {
        // The reader stopped early: the upstream was closed by the iterator protocol; record why.
        const err = new AbortError('the reader stopped before the stream ended');
        call.abort(err);
        await gateway.finish(call, { error: err, ttfcMs });
        this.reject(err);
      }
    }
  }
}

/**
 * Time to first chunk is taken at the first chunk that carries output (text, a tool call, a
 * refusal): a role-only opening chunk says nothing about when the model started answering.
 */
function carriesOutput(chunk: ChatCompletionChunk): boolean {
  for (const c of chunk.choices) {
    const d = c.delta;
    if (d.content || d.tool_calls?.length || d.refusal || c.finish_reason) return true;
  }
  return false;
}

function failedStream(err: unknown): ChatStream {
  const response = Promise.reject(err);
  response.catch(() => {});
  return {
    response,
    meta: { callId: '', attempts: [] },
    [Symbol.asyncIterator]() {
      return {
        next: () => Promise.reject(err),
      };
    },
  };
}

async function drain(reply: StreamReply): Promise<ChatCompletion> {
  for await (const _ of reply.chunks) {
    // Reading the chunks is what assembles the response.
  }
  return reply.response;
}

function end(call: Call): undefined {
  call.dispose();
  call.span.end();
  return undefined;
}

function withMeta(response: ChatCompletion, meta: CallMeta): GatewayResponse {
  return { ...response, flowgate: meta };
}

function isPlanNow(p: Plan | Promise<Plan>): p is Plan {
  return typeof (p as Partial<Promise<Plan>>).then !== 'function';
}

function isRetryable(err: unknown): boolean {
  return err instanceof FlowgateError && err.retryable;
}

function errorType(err: unknown): string {
  if (err instanceof FlowgateError) return err.code;
  if (err instanceof Error) return err.name;
  return '_OTHER';
}

function outcomeOf(err: unknown): string {
  if (err === undefined) return 'ok';
  if (err instanceof AbortError) return 'aborted';
  return 'error';
}

function markError(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.setAttribute(sc.ATTR_ERROR_TYPE, errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

function reportObserverError(call: Call, err: unknown): void {
  diag.error('flowgate: an observer threw; the call is not affected', err);
  if (call.span.isRecording()) {
    call.span.addEvent('flowgate.observer_error', {
      'exception.type': err instanceof Error ? err.name : typeof err,
      'exception.message': err instanceof Error ? err.message : String(err),
    });
  }
}
