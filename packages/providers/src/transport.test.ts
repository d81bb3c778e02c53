/**
 * Provider behaviour against synthetic upstream answers from a tiny local HTTP server: headers, bodies,
 * decompression, error mapping, redaction, stream closing. The shared conformance suite covers the mock provider.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import {
  AbortError,
  type ChatCompletionChunk,
  ConnectionError,
  type FlowgateError,
  MalformedResponseError,
  type Provider,
  type StreamReply,
  StreamTruncatedError,
  TimeoutError,
  UpstreamAuthError,
  UpstreamServerError,
} from '@flowgate/core';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropic } from './anthropic.js';
import { chatBody, openai } from './openai.js';
import { attemptContext } from './test-context.test-suite.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
let handler: Handler;
/** Responses whose connection closed before they finished. */
let cutOff = 0;
let lastRequest: { url: string; headers: IncomingMessage['headers']; body: string } | undefined;
const agent = new Agent({ keepAliveTimeout: 1000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      lastRequest = { url: req.url ?? '', headers: req.headers, body };
      res.on('close', () => {
        if (!res.writableFinished) cutOff++;
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await agent.close();
});

beforeEach(() => {
  cutOff = 0;
  lastRequest = undefined;
});

const KEY = 'sk-test-SECRET-0123456789';
const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-x',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-x', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const request = { model: 'gpt-x', messages: [{ role: 'user' as const, content: 'hello' }] };

function send(provider: Provider, options: { streaming?: boolean; signal?: AbortSignal; dispatcher?: Agent } = {}) {
  return provider.send(attemptContext({ provider, request, dispatcher: options.dispatcher ?? agent, ...options }));
}

async function sendError(
  provider: Provider,
  options: { streaming?: boolean; signal?: AbortSignal; dispatcher?: Agent } = {},
) {
  try {
    const reply = await send(provider, options);
    if (reply.type === 'stream') for await (const _ of reply.chunks);
  } catch (err) {
    return err as FlowgateError;
  }
  throw new Error('expected the call to fail');
}

async function collect(reply: StreamReply): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of reply.chunks) out.push(c);
  return out;
}

describe('openai request', () => {
  it('sends the body once, with auth, organization, user headers and accept-encoding', async () => {
    handler = (_req, res) => json(res, 200, completion);
    const provider = openai({
      apiKey: KEY,
      baseURL: `${base}/v1/`,
      organization: 'org-1',
      headers: { 'X-Custom': 'yes' },
    });
    const reply = await send(provider);
    expect(reply.type).toBe('response');
    expect(lastRequest!.url).toBe('/v1/chat/completions');
    expect(lastRequest!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(lastRequest!.headers['openai-organization']).toBe('org-1');
    expect(lastRequest!.headers['x-custom']).toBe('yes');
    expect(lastRequest!.headers['accept-encoding']).toBe('gzip, br');
    expect(JSON.parse(lastRequest!.body)).toEqual(request);
  });

  it('sets stream and stream_options.include_usage for streamed calls, and drops them for whole ones', () => {
    expect(JSON.parse(chatBody(request, true))).toEqual({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(JSON.parse(chatBody({ ...request, stream_options: { include_usage: false } }, true)).stream_options).toEqual(
      {
        include_usage: true,
      },
    );
    expect(JSON.parse(chatBody({ ...request, stream: true, stream_options: { include_usage: true } }, false))).toEqual({
      ...request,
      stream: false,
    });
    expect(chatBody(request, false)).toBe(JSON.stringify(request));
  });

  it('derives address and origin from the base URL', () => {
    const p = openai({ baseURL: 'https://llm.example.com:8443/openai/v1' });
    expect(p.origin).toBe('https://llm.example.com:8443');
    expect(p.address).toEqual({ host: 'llm.example.com', port: 8443 });
    expect(openai().address).toEqual({ host: 'api.openai.com', port: 443 });
    expect(openai().system).toBe('openai');
    expect(openai().id).toBe('openai');
  });

  it('serves models by list, predicate, pattern, or all by default', () => {
    expect(openai().serves('anything')).toBe(true);
    expect(openai({ models: ['a', 'b'] }).serves('b')).toBe(true);
    expect(openai({ models: ['a', 'b'] }).serves('c')).toBe(false);
    expect(openai({ models: (m) => m.startsWith('gpt-') }).serves('gpt-4o')).toBe(true);
    const o = openai({ models: /^o\d/g });
    expect([o.serves('o3'), o.serves('o3'), o.serves('gpt')]).toEqual([true, true, false]); // a /g pattern is not stateful
    expect(anthropic().serves('claude-sonnet-4')).toBe(true);
    expect(anthropic().serves('gpt-4o')).toBe(false);
  });
});

describe('anthropic request', () => {
  it('posts the mapped body to /v1/messages with x-api-key and anthropic-version', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [{ type: 'text', text: 'hi' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 1 },
      });
    const provider = anthropic({ apiKey: KEY, baseURL: base, defaultMaxTokens: 99 });
    const reply = await provider.send(
      attemptContext({ provider, request: { ...request, model: 'claude-x' }, dispatcher: agent }),
    );
    expect(lastRequest!.url).toBe('/v1/messages');
    expect(lastRequest!.headers['x-api-key']).toBe(KEY);
    expect(lastRequest!.headers['anthropic-version']).toBe('2023-06-01');
    expect(lastRequest!.headers.authorization).toBeUndefined();
    expect(JSON.parse(lastRequest!.body)).toEqual({
      model: 'claude-x',
      max_tokens: 99,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
    });
    expect(reply.type === 'response' && reply.response.choices[0]!.message.content).toBe('hi');
  });

  it('maps an error event mid-stream to a typed error', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', model: 'c', usage: { input_tokens: 1, output_tokens: 1 } } })}\n\n`,
      );
      res.end(
        `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`,
      );
    };
    const err = await sendError(anthropic({ baseURL: base, models: () => true }), { streaming: true });
    expect(err).toBeInstanceOf(UpstreamServerError);
    expect(err.message).toContain('Overloaded');
  });
});

describe('decompression', () => {
  it.each([
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
    ['deflate', deflateSync],
  ] as const)('decodes a %s JSON body', async (encoding, compress) => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding });
      res.end(compress(Buffer.from(JSON.stringify(completion))));
    };
    const reply = await send(openai({ baseURL: base }));
    expect(reply.type === 'response' && reply.response).toEqual(completion);
  });

  it('decodes a gzip event stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(
        gzipSync(
          Buffer.from(`${chunk({ role: 'assistant', content: '' })}${chunk({ content: 'héllo' })}data: [DONE]\n\n`),
        ),
      );
    };
    const reply = (await send(openai({ baseURL: base }), { streaming: true })) as StreamReply;
    const chunks = await collect(reply);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'héllo']);
  });

  it('decodes a gzip error body to quote it', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.from(JSON.stringify({ error: { message: 'try later please' } }))));
    };
    const err = await sendError(openai({ baseURL: base }));
    expect(err).toBeInstanceOf(UpstreamServerError);
    expect(err.message).toContain('try later please');
  });

  it('decodes embeddings', async () => {
    const body = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }],
      model: 'e',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      res.end(brotliCompressSync(Buffer.from(JSON.stringify(body))));
    };
    const out = await openai({ baseURL: `${base}/v1` }).embed!(
      { model: 'e', input: 'x' },
      { signal: new AbortController().signal, dispatcher: agent },
    );
    expect(lastRequest!.url).toBe('/v1/embeddings');
    expect(out).toEqual(body);
  });
});

describe('secrets', () => {
  it('never puts the API key in an error, even when the upstream echoes it', async () => {
    handler = (req, res) =>
      json(res, 401, {
        error: { message: `Incorrect API key provided: ${req.headers.authorization}`, code: 'invalid_api_key' },
      });
    const err = await sendError(openai({ baseURL: base, apiKey: KEY }));
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect(err.message).toContain('Incorrect API key provided');
    const everything = `${err.message}\n${err.stack}\n${String(err.cause)}\n${JSON.stringify(err)}`;
    expect(everything).not.toContain(KEY);
  });

  it('redacts an echoed key in a malformed 200 body', async () => {
    handler = (req, res) => json(res, 200, `not json ${req.headers['x-api-key']}`);
    const err = await sendError(anthropic({ baseURL: base, apiKey: KEY, models: () => true }));
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(`${err.message}${err.stack}${String(err.cause)}`).not.toContain(KEY);
  });

  it('redacts an echoed key in a malformed stream event', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: {"oops": ${req.headers.authorization}\n\n`);
    };
    const err = await sendError(openai({ baseURL: base, apiKey: KEY }), { streaming: true });
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(`${err.message}${err.stack}${String(err.cause)}`).not.toContain(KEY);
  });
});

describe('whole answers', () => {
  it('quotes the start of an error body past 64 KiB and drops the rest with the connection', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write(`overloaded ${'x'.repeat(70 * 1024)}`);
      setTimeout(() => res.end('never read'), 300);
    };
    const err = await sendError(openai({ baseURL: base }));
    expect(err).toBeInstanceOf(UpstreamServerError);
    expect(err.status).toBe(503);
    expect(err.message).toContain('overloaded');
    await waitFor(() => cutOff === 1);
  });

  it('closes the upstream connection when the signal aborts while the answer is on its way', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id": "chatcmpl-1", ');
    };
    const controller = new AbortController();
    const pending = sendError(openai({ baseURL: base }), { signal: controller.signal });
    await waitFor(() => lastRequest !== undefined);
    controller.abort(new Error('client left'));
    expect(await pending).toBeInstanceOf(AbortError);
    await waitFor(() => cutOff === 1);
  });

  it('undoes two content-codings, the last applied first', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate, gzip' });
      res.end(gzipSync(deflateSync(Buffer.from(JSON.stringify(completion)))));
    };
    const reply = await send(openai({ baseURL: base }));
    expect(reply.type === 'response' && reply.response).toEqual(completion);
  });

  it('maps a 200 body that does not decode to MalformedResponseError', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end('not gzip at all');
    };
    const err = await sendError(openai({ baseURL: base }));
    expect(err).toBeInstanceOf(MalformedResponseError);
  });

  it('drops a byte order mark before the JSON', async () => {
    handler = (_req, res) => json(res, 200, `\uFEFF${JSON.stringify(completion)}`);
    const reply = await send(openai({ baseURL: base }));
    expect(reply.type === 'response' && reply.response).toEqual(completion);
  });
});

describe('transport failures', () => {
  it('maps a 200 body that is not JSON to MalformedResponseError', async () => {
    handler = (_req, res) => json(res, 200, '{"id": "x", "choi');
    const err = await sendError(openai({ baseURL: base }));
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.status).toBe(200);
  });

  it('maps a refused connection to ConnectionError', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await sendError(openai({ id: 'down', baseURL: `http://127.0.0.1:${port}` }));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.provider).toBe('down');
  });

  it('maps an undici headers timeout to TimeoutError', async () => {
    handler = () => {}; // never answers
    const impatient = new Agent({ headersTimeout: 50 });
    try {
      const err = await sendError(openai({ baseURL: base }), { dispatcher: impatient });
      expect(err).toBeInstanceOf(TimeoutError);
    } finally {
      await impatient.destroy();
    }
  });

  it('rethrows a FlowgateError abort reason (a deadline) as is', async () => {
    handler = () => {};
    const controller = new AbortController();
    const deadline = new TimeoutError('deadline passed');
    const pending = sendError(openai({ baseURL: base }), { signal: controller.signal });
    await waitFor(() => lastRequest !== undefined);
    controller.abort(deadline);
    expect(await pending).toBe(deadline);
  });

  it('maps an already aborted signal to AbortError without sending', async () => {
    handler = (_req, res) => json(res, 200, completion);
    const err = await sendError(openai({ baseURL: base }), { signal: AbortSignal.abort() });
    expect(err).toBeInstanceOf(AbortError);
    expect(lastRequest).toBeUndefined();
  });

  it('maps a connection reset mid-stream to StreamTruncatedError', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }), () => req.socket.destroy());
    };
    const err = await sendError(openai({ baseURL: base }), { streaming: true });
    expect(err).toBeInstanceOf(StreamTruncatedError);
  });

  it('maps an in-band error chunk to a typed error', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk({ role: 'assistant' })}data: {"error":{"message":"model crashed","type":"server_error"}}\n\n`);
    };
    const err = await sendError(openai({ baseURL: base }), { streaming: true });
    expect(err).toBeInstanceOf(UpstreamServerError);
    expect(err.message).toContain('model crashed');
  });
});

describe('streams', () => {
  it('accepts a stream that ends with a single newline after [DONE]', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk({ content: 'a' })}data: [DONE]\n`);
    };
    const reply = (await send(openai({ baseURL: base }), { streaming: true })) as StreamReply;
    expect((await collect(reply)).length).toBe(1);
    expect((await reply.response).choices[0]!.message.content).toBe('a');
  });

  it('replays a whole JSON answer as a stream when the server ignored stream: true', async () => {
    handler = (_req, res) => json(res, 200, completion);
    const reply = (await send(openai({ baseURL: base }), { streaming: true })) as StreamReply;
    await collect(reply);
    expect((await reply.response).choices[0]!.message.content).toBe('hi there');
  });

  it('closes the upstream response when the consumer stops early', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      res.write(chunk({ content: 'one' })); // then nothing more: only closing the connection ends it
    };
    const reply = (await send(openai({ baseURL: base }), { streaming: true })) as StreamReply;
    for await (const _ of reply.chunks) break;
    await waitFor(() => cutOff === 1);
    await expect(reply.response).rejects.toBeInstanceOf(AbortError);
  });

  it('closes the upstream response when the signal aborts mid-stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
    };
    const controller = new AbortController();
    const reply = (await send(openai({ baseURL: base }), {
      streaming: true,
      signal: controller.signal,
    })) as StreamReply;
    const seen: unknown[] = [];
    const err = await (async () => {
      try {
        for await (const c of reply.chunks) {
          seen.push(c);
          controller.abort(new Error('client left'));
        }
      } catch (e) {
        return e;
      }
    })();
    expect(seen.length).toBe(1);
    expect(err).toBeInstanceOf(AbortError);
    await waitFor(() => cutOff === 1);
  });

  it('keeps the connection for reuse after a complete stream', async () => {
    let sockets = 0;
    const seen = new WeakSet<object>();
    handler = (req, res) => {
      if (!seen.has(req.socket)) {
        seen.add(req.socket);
        sockets++;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The response ends a moment after [DONE]: a reader that dropped the body at [DONE] would lose the socket.
      res.write(`${chunk({ content: 'a' })}data: [DONE]\n\n`, () => setTimeout(() => res.end(), 20));
    };
    const provider = openai({ baseURL: base });
    const own = new Agent({ connections: 1 });
    try {
      for (let i = 0; i < 3; i++)
        await collect((await send(provider, { streaming: true, dispatcher: own })) as StreamReply);
    } finally {
      await own.close();
    }
    expect(sockets).toBe(1);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
