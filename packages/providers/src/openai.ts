import {
  type AttemptContext,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type Provider,
  type Reply,
  responseAsStream,
  responseReply,
  StreamTruncatedError,
  streamReply,
} from '@flowgate/core';
import type { Dispatcher } from 'undici';
import { type ErrorScope, hasError, inBandError, malformed, transportError } from './errors.js';
import { type ModelFilter, modelMatcher } from './models.js';
import { SseParser, SseSyntaxError } from './sse.js';
import { createEndpoint, type Endpoint, isJson, post, postForText, type Response, readText } from './transport.js';
import { postWhole } from './whole-answer.js';

export interface OpenAIOptions {
  /** Provider id within the gateway. Default `'openai'`. */
  id?: string;
  /** Sent as `Authorization: Bearer …`; omit for servers that need no key. */
  apiKey?: string;
  /** Default `https://api.openai.com/v1`; any OpenAI-compatible server works. */
  baseURL?: string;
  /** Models this provider serves: names, a predicate or a pattern. Default: every model. */
  models?: ModelFilter;
  /** Extra request headers (override the defaults, names are case-insensitive). */
  headers?: Record<string, string>;
  /** Sent as `OpenAI-Organization`. */
  organization?: string;
  /** Sent as `OpenAI-Project`. */
  project?: string;
}

const serveAll = (): boolean => true;

/**
 * An OpenAI Chat Completions provider (`POST {baseURL}/chat/completions`, `POST {baseURL}/embeddings`).
 * The canonical request passes through untouched but for `stream` (and `stream_options.include_usage` when
 * streaming); responses and chunks come back exactly as the server sent them.
 */
export function openai(options: OpenAIOptions = {}): Provider {
  return new OpenAIProvider(options);
}

class OpenAIProvider implements Provider {
  readonly id: string;
  readonly system = 'openai';
  readonly address: { host: string; port: number };
  readonly origin: string;
  private readonly endpoint: Endpoint;
  private readonly chatPath: string;
  private readonly embeddingsPath: string;
  private readonly match: (model: string) => boolean;

  constructor(options: OpenAIOptions) {
    this.id = options.id ?? 'openai';
    const headers: Record<string, string> = {};
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (options.organization) headers['openai-organization'] = options.organization;
    if (options.project) headers['openai-project'] = options.project;
    this.endpoint = createEndpoint({
      providerId: this.id,
      baseURL: options.baseURL ?? 'https://api.openai.com/v1',
      secret: options.apiKey || undefined,
      headers,
      userHeaders: options.headers,
    });
    this.address = this.endpoint.address;
    this.origin = this.endpoint.origin;
    this.chatPath = `${this.endpoint.basePath}/chat/completions`;
    this.embeddingsPath = `${this.endpoint.basePath}/embeddings`;
    this.match = modelMatcher(options.models, serveAll);
  }

  serves(model: string): boolean {
    return this.match(model);
  }

  send(ctx: AttemptContext): Promise<Reply> {
    // A signal that can never fire is not worth a listener per request.
    const signal = ctx.cancellable ? ctx.signal : undefined;
    let body: string;
    try {
      body = chatBody(ctx.targetRequest, ctx.streaming);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ctx.streaming) return this.sendStreaming(ctx.dispatcher, signal, body);
    // The whole answer: request, body and parse in one async frame.
    return postForText(ctx.dispatcher, signal, this.endpoint, this.chatPath, body, completionReply);
  }

  private async sendStreaming(dispatcher: Dispatcher, signal: AbortSignal | undefined, body: string): Promise<Reply> {
    const endpoint = this.endpoint;
    const res = await post(dispatcher, signal, endpoint, this.chatPath, body);
    if (isJson(res.headers['content-type'])) {
      // A server that ignored `stream: true` answered whole: replay it as a stream rather than fail.
      return responseAsStream(parseCompletion(endpoint, await readText(endpoint, res, signal), res.statusCode));
    }
    return streamReply(openaiChunks(endpoint, res, signal));
  }

  async embed(
    request: EmbeddingRequest,
    ctx: { signal: AbortSignal; dispatcher: Dispatcher },
  ): Promise<EmbeddingResponse> {
    const endpoint = this.endpoint;
    const res = await postWhole(ctx.dispatcher, ctx.signal, endpoint, this.embeddingsPath, JSON.stringify(request));
    const body = parseJson(endpoint, res.text, res.statusCode);
    if (hasError(body)) throw inBandError(endpoint, body);
    if (!Array.isArray((body as Partial<EmbeddingResponse>).data)) {
      throw malformed(endpoint, 'embeddings response without data', res.text, res.statusCode);
    }
    return body as EmbeddingResponse;
  }
}

/**
 * The request body, serialized once. `stream` is made to match the call; a streamed call always asks for the
 * usage chunk. A whole call drops `stream_options` (OpenAI rejects it without `stream: true`).
 */
export function chatBody(request: ChatCompletionRequest, streaming: boolean): string {
  if (streaming) {
    if (request.stream === true && request.stream_options?.include_usage === true) return JSON.stringify(request);
    return JSON.stringify({
      ...request,
      stream: true,
      stream_options: { ...request.stream_options, include_usage: true },
    });
  }
  if (!request.stream && request.stream_options === undefined) return JSON.stringify(request);
  const { stream_options: _, ...rest } = request;
  return JSON.stringify({ ...rest, stream: false });
}

function parseJson(scope: ErrorScope, text: string, status: number): object {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed(scope, 'response body is not JSON', text, status);
  }
  if (body === null || typeof body !== 'object')
    throw malformed(scope, 'response body is not a JSON object', text, status);
  return body;
}

function completionReply(scope: ErrorScope, text: string, status: number): Reply {
  return responseReply(parseCompletion(scope, text, status));
}

export function parseCompletion(scope: ErrorScope, text: string, status: number): ChatCompletion {
  const body = parseJson(scope, text, status);
  if (hasError(body)) throw inBandError(scope, body);
  if (!Array.isArray((body as Partial<ChatCompletion>).choices)) {
    throw malformed(scope, 'chat completion without choices', text, status);
  }
  return body as ChatCompletion;
}

/** Bytes we are willing to read after `[DONE]` to hand the connection back for reuse, before cutting it. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * The server's chunks, parsed one SSE event at a time and yielded as soon as each completes. Stopping early
 * (`return()`) or an aborted signal destroys the body, closing the upstream stream and its socket.
 */
async function* openaiChunks(
  scope: ErrorScope,
  res: Response,
  signal: AbortSignal | undefined,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const body = res.body;
  const parser = new SseParser();
  const events = parser.events;
  let done = false;
  let complete = false;
  let drained = 0;
  try {
    for await (const bytes of body as AsyncIterable<Buffer>) {
      if (done) {
        drained += bytes.length;
        if (drained > DRAIN_LIMIT) break;
        continue;
      }
      parser.feed(bytes);
      for (let i = 0; i < events.length; i++) {
        const data = events[i]!.data;
        if (data === '[DONE]') {
          done = true;
          break;
        }
        yield parseChunk(scope, data);
      }
      events.length = 0;
    }
    complete = true;
    if (!done) {
      parser.end();
      for (let i = 0; i < events.length && !done; i++) {
        const data = events[i]!.data;
        if (data === '[DONE]') done = true;
        else yield parseChunk(scope, data);
      }
      events.length = 0;
      if (!done) {
        throw new StreamTruncatedError(`${scope.providerId}: the stream ended without [DONE]`, {
          provider: scope.providerId,
        });
      }
    }
  } catch (err) {
    if (err instanceof SseSyntaxError) throw malformed(scope, 'not an event stream', err.line, res.statusCode);
    throw transportError(scope, err, signal, 'stream');
  } finally {
    if (!complete) body.destroy();
  }
}

function parseChunk(scope: ErrorScope, data: string): ChatCompletionChunk {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw malformed(scope, 'event data is not JSON', data);
  }
  if (chunk === null || typeof chunk !== 'object') throw malformed(scope, 'event data is not a JSON object', data);
  if (!Array.isArray((chunk as Partial<ChatCompletionChunk>).choices)) {
    if (hasError(chunk)) throw inBandError(scope, chunk);
    throw malformed(scope, 'chunk without choices', data);
  }
  return chunk as ChatCompletionChunk;
}
