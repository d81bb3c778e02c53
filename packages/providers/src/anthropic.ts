import {
  type AttemptContext,
  type ChatCompletion,
  type ChatCompletionChunk,
  type Provider,
  type Reply,
  responseAsStream,
  responseReply,
  StreamTruncatedError,
  streamReply,
} from '@flowgate/core';
import {
  type AnthropicResponse,
  AnthropicStreamMapper,
  fromAnthropicResponse,
  toAnthropicRequest,
} from './anthropic-mapping.js';
import { type ErrorScope, hasError, inBandError, malformed, transportError } from './errors.js';
import { type ModelFilter, modelMatcher } from './models.js';
import { SseParser, SseSyntaxError } from './sse.js';
import { createEndpoint, type Endpoint, isJson, post, postForText, type Response, readText } from './transport.js';

export interface AnthropicOptions {
  /** Provider id within the gateway. Default `'anthropic'`. */
  id?: string;
  /** Sent as `x-api-key`. */
  apiKey?: string;
  /** Default `https://api.anthropic.com` (the provider adds `/v1/messages`). */
  baseURL?: string;
  /** `anthropic-version` header. Default `'2023-06-01'`. */
  version?: string;
  /** Models this provider serves: names, a predicate or a pattern. Default `/^claude/`. */
  models?: ModelFilter;
  /** Extra request headers (e.g. `anthropic-beta`); override the defaults, names are case-insensitive. */
  headers?: Record<string, string>;
  /** `max_tokens` when the request sets neither `max_tokens` nor `max_completion_tokens` (Anthropic requires it). Default 4096. */
  defaultMaxTokens?: number;
}

const CLAUDE = /^claude/;
const isClaude = (model: string): boolean => CLAUDE.test(model);

/**
 * An Anthropic Messages API provider (`POST {baseURL}/v1/messages`). Canonical requests are mapped to Anthropic's
 * shape on the way out, and responses and stream events back to canonical completions and chunks.
 */
export function anthropic(options: AnthropicOptions = {}): Provider {
  return new AnthropicProvider(options);
}

class AnthropicProvider implements Provider {
  readonly id: string;
  readonly system = 'anthropic';
  readonly address: { host: string; port: number };
  readonly origin: string;
  private readonly endpoint: Endpoint;
  private readonly messagesPath: string;
  private readonly match: (model: string) => boolean;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.id = options.id ?? 'anthropic';
    const headers: Record<string, string> = { 'anthropic-version': options.version ?? '2023-06-01' };
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    this.endpoint = createEndpoint({
      providerId: this.id,
      baseURL: options.baseURL ?? 'https://api.anthropic.com',
      secret: options.apiKey || undefined,
      headers,
      userHeaders: options.headers,
    });
    this.address = this.endpoint.address;
    this.origin = this.endpoint.origin;
    this.messagesPath = `${this.endpoint.basePath}/v1/messages`;
    this.match = modelMatcher(options.models, isClaude);
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
  }

  serves(model: string): boolean {
    return this.match(model);
  }

  async send(ctx: AttemptContext): Promise<Reply> {
    const endpoint = this.endpoint;
    // A signal that can never fire is not worth a listener per request.
    const signal = ctx.cancellable ? ctx.signal : undefined;
    const body = JSON.stringify(toAnthropicRequest(ctx.targetRequest, this.defaultMaxTokens, ctx.streaming));
    if (!ctx.streaming) {
      return responseReply(await postForText(ctx.dispatcher, signal, endpoint, this.messagesPath, body, parseMessage));
    }
    const res = await post(ctx.dispatcher, signal, endpoint, this.messagesPath, body);
    if (isJson(res.headers['content-type'])) {
      return responseAsStream(parseMessage(endpoint, await readText(endpoint, res, signal), res.statusCode));
    }
    return streamReply(anthropicChunks(endpoint, res, signal));
  }
}

export function parseMessage(scope: ErrorScope, text: string, status: number): ChatCompletion {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed(scope, 'response body is not JSON', text, status);
  }
  if (body === null || typeof body !== 'object')
    throw malformed(scope, 'response body is not a JSON object', text, status);
  if (hasError(body)) throw inBandError(scope, body);
  if (!Array.isArray((body as Partial<AnthropicResponse>).content)) {
    throw malformed(scope, 'message without content', text, status);
  }
  return fromAnthropicResponse(body as AnthropicResponse);
}

/** Bytes we are willing to read after `message_stop` to hand the connection back for reuse, before cutting it. */
const DRAIN_LIMIT = 64 * 1024;

async function* anthropicChunks(
  scope: ErrorScope,
  res: Response,
  signal: AbortSignal | undefined,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const body = res.body;
  const parser = new SseParser();
  const events = parser.events;
  const mapper = new AnthropicStreamMapper();
  let complete = false;
  let drained = 0;
  try {
    for await (const bytes of body as AsyncIterable<Buffer>) {
      if (mapper.done) {
        drained += bytes.length;
        if (drained > DRAIN_LIMIT) break;
        continue;
      }
      parser.feed(bytes);
      for (let i = 0; i < events.length && !mapper.done; i++) {
        const chunk = mapper.map(parseEvent(scope, events[i]!.data));
        if (chunk !== undefined) yield chunk;
      }
      events.length = 0;
    }
    complete = true;
    if (!mapper.done) {
      parser.end();
      for (let i = 0; i < events.length && !mapper.done; i++) {
        const chunk = mapper.map(parseEvent(scope, events[i]!.data));
        if (chunk !== undefined) yield chunk;
      }
      events.length = 0;
      if (!mapper.done) {
        throw new StreamTruncatedError(`${scope.providerId}: the stream ended without message_stop`, {
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

function parseEvent(scope: ErrorScope, data: string): { type?: unknown } & Record<string, unknown> {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    throw malformed(scope, 'event data is not JSON', data);
  }
  if (event === null || typeof event !== 'object') throw malformed(scope, 'event data is not a JSON object', data);
  const e = event as { type?: unknown } & Record<string, unknown>;
  if (e.type === 'error') throw inBandError(scope, e);
  return e;
}
