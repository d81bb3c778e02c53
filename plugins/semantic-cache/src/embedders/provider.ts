import {
  ConfigError,
  type EmbeddingRequest,
  FlowgateError,
  type PluginHost,
  type Provider,
  semconv,
} from '@flowgate/core';
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { EmbeddingError } from '../errors.js';
import type { EmbedContext, Embedder } from '../types.js';

export interface ProviderEmbedderOptions {
  /**
   * The provider to call: a `Provider` object, or the id of one of the gateway's providers (resolved
   * when the plugin is set up). It must implement `embed` (the OpenAI-compatible provider does:
   * `POST {baseURL}/embeddings`).
   */
  provider: Provider | string;
  /** Embedding model, e.g. `text-embedding-3-small`. */
  model: string;
  /** Size of the vectors the model returns (or is asked for, with `sendDimensions`). */
  dimensions: number;
  /** Send `dimensions` in the request (models that can shorten their vectors). Default false. */
  sendDimensions?: boolean;
  /** The similarity threshold calibrated for this model (see `npm run eval`). */
  threshold?: number;
  /**
   * HTTP dispatcher for calls made outside a gateway call (an evaluation script). Inside a call the
   * call's dispatcher is used, so embeddings share the pool plugin's connections. Default: undici's
   * global dispatcher.
   */
  dispatcher?: Dispatcher;
  /** Tracer for the `embeddings {model}` span; inside a gateway, the gateway's. Default: the global tracer provider's. */
  tracer?: Tracer;
}

const NEVER = new AbortController().signal;
const SCOPE = '@flowgate/plugin-semantic-cache';

let globalDispatcher: Promise<Dispatcher> | undefined;
/** undici's global dispatcher, loaded only when an embedding is made outside a call without one. */
function defaultDispatcher(): Promise<Dispatcher> {
  globalDispatcher ??= import('undici').then((m) => m.getGlobalDispatcher());
  return globalDispatcher;
}

/**
 * Embeddings from a provider's OpenAI-compatible `/v1/embeddings`, called the way the gateway calls
 * models: through `provider.embed` over the call's dispatcher (the pool plugin's when installed), with
 * an `embeddings {model}` CLIENT span (GenAI conventions) as a child of the call span. The plugin does
 * not need the gateway object: the host lists the providers (`provider: 'openai'` is resolved at
 * setup) and each call brings its dispatcher, signal and span.
 *
 * @example
 * semanticCache({ embedder: providerEmbedder({ provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536, threshold: 0.9 }) })
 */
export function providerEmbedder(options: ProviderEmbedderOptions): Embedder {
  if (typeof options !== 'object' || options === null) throw new ConfigError('providerEmbedder needs options');
  const { model, dimensions } = options;
  if (typeof model !== 'string' || model === '') throw new ConfigError('providerEmbedder needs a `model`');
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new ConfigError(`providerEmbedder dimensions must be a positive integer, got ${String(dimensions)}`);
  }
  const p = options.provider;
  if (typeof p !== 'string' && (typeof p !== 'object' || p === null || typeof p.id !== 'string')) {
    throw new ConfigError('providerEmbedder needs a `provider`: a Provider object or a provider id');
  }
  if (typeof p === 'object' && typeof p.embed !== 'function') {
    throw new ConfigError(`providerEmbedder: provider "${p.id}" cannot make embeddings (no embed method)`);
  }
  const threshold = options.threshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && threshold > -1 && threshold <= 1)) {
    throw new ConfigError(`providerEmbedder threshold must be a number in (-1, 1], got ${String(threshold)}`);
  }

  let provider: Provider | undefined = typeof p === 'string' ? undefined : p;
  let tracer: Tracer = options.tracer ?? trace.getTracer(SCOPE);
  const id = `${typeof p === 'string' ? p : p.id}/${model}/${dimensions}`;

  return {
    id,
    dimensions,
    ...(threshold === undefined ? {} : { threshold }),
    bind(host: PluginHost) {
      if (!options.tracer) tracer = host.tracer;
      if (typeof p !== 'string') return;
      const found = host.providers.find((x) => x.id === p);
      if (!found) {
        throw new ConfigError(
          `providerEmbedder: no provider with id "${p}" in this gateway (ids: ${host.providers.map((x) => x.id).join(', ')})`,
        );
      }
      if (typeof found.embed !== 'function') {
        throw new ConfigError(`providerEmbedder: provider "${p}" cannot make embeddings (no embed method)`);
      }
      provider = found;
    },
    async embed(texts: readonly string[], ctx?: EmbedContext): Promise<Float32Array[]> {
      if (provider === undefined) {
        throw new ConfigError(
          `providerEmbedder: provider "${String(p)}" is resolved when the plugin is set up; outside a gateway pass a Provider object`,
        );
      }
      if (texts.length === 0) return [];
      const request: EmbeddingRequest = { model, input: [...texts], encoding_format: 'float' };
      if (options.sendDimensions) request.dimensions = dimensions;
      const dispatcher = ctx?.dispatcher ?? options.dispatcher ?? (await defaultDispatcher());
      const span = startSpan(tracer, provider, model, ctx?.span);
      try {
        const res = await provider.embed!(request, { signal: ctx?.signal ?? NEVER, dispatcher });
        if (span.isRecording() && res.usage)
          span.setAttribute(semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS, res.usage.prompt_tokens);
        return toVectors(id, res.data, texts.length, dimensions);
      } catch (err) {
        if (span.isRecording()) {
          span.setAttribute(semconv.ATTR_ERROR_TYPE, err instanceof FlowgateError ? err.code : 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        }
        throw err;
      } finally {
        span.end();
      }
    },
  };
}

function startSpan(tracer: Tracer, provider: Provider, model: string, parent: Span | undefined): Span {
  if (parent !== undefined && !parent.isRecording()) return trace.wrapSpanContext(parent.spanContext());
  const attributes: Record<string, string | number> = {
    [semconv.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
    [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model,
    [semconv.ATTR_GEN_AI_PROVIDER_NAME]: provider.system,
    [semconv.ATTR_FLOWGATE_PROVIDER_ID]: provider.id,
  };
  if (provider.address) {
    attributes[semconv.ATTR_SERVER_ADDRESS] = provider.address.host;
    attributes[semconv.ATTR_SERVER_PORT] = provider.address.port;
  }
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startSpan(`embeddings ${model}`, { kind: SpanKind.CLIENT, attributes }, ctx);
}

/** Checks the response shape and converts each embedding to a Float32Array, in input order. */
function toVectors(
  id: string,
  data: readonly { index: number; embedding: number[] | string }[] | undefined,
  count: number,
  dimensions: number,
): Float32Array[] {
  if (!Array.isArray(data) || data.length !== count) {
    throw new EmbeddingError(id, `expected ${count} embeddings, got ${Array.isArray(data) ? data.length : 'none'}`);
  }
  const out = new Array<Float32Array>(count);
  for (const [i, item] of data.entries()) {
    const index = typeof item?.index === 'number' ? item.index : i;
    const e = item?.embedding;
    if (!Array.isArray(e) || e.length !== dimensions || index < 0 || index >= count) {
      throw new EmbeddingError(
        id,
        `embedding ${i} has ${Array.isArray(e) ? e.length : typeof e} values, expected ${dimensions} numbers`,
      );
    }
    const v = Float32Array.from(e);
    for (const x of v) if (!Number.isFinite(x)) throw new EmbeddingError(id, `embedding ${i} has a non-finite value`);
    out[index] = v;
  }
  for (let i = 0; i < count; i++) if (out[i] === undefined) throw new EmbeddingError(id, `embedding ${i} is missing`);
  return out;
}
