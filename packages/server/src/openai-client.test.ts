/**
 * The server through the official `openai` npm client: the shapes, headers and errors it expects.
 */
import type { MockProvider } from '@flowgate/mock-provider';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, GATEWAY_KEY, startTestServer, startUpstream, UPSTREAM_KEY, until } from './server.test-util.js';
import type { RunningServer } from './start.js';

let mock: MockProvider;
let server: RunningServer;
let openai: OpenAI;

beforeAll(async () => {
  mock = await startUpstream();
  server = await startTestServer(mock, {
    providers: [
      {
        id: 'mock',
        type: 'openai',
        baseURL: `${mock.url}/v1`,
        apiKeyEnv: 'TEST_UPSTREAM_KEY',
        models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'slow*', 'flaky', 'busy', 'broken-*'],
      },
    ],
    aliases: { smart: [{ provider: 'mock', model: 'gpt-4o' }] },
  });
  openai = client(server);
});
afterEach(() => mock.reset());
afterAll(async () => {
  await server.close();
  await mock.close();
});

const ask = (content: string) => [{ role: 'user' as const, content }];

describe('chat completions with the official client', () => {
  it('answers a completion in the OpenAI shape', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('What is a gateway?') });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]?.message.content).toBe('Mock answer to: What is a gateway?');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    // 4 words + 4 per message; 7 answer words (the mock's deterministic count).
    expect(res.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 7, total_tokens: 15 });
    expect(res).not.toHaveProperty('flowgate');
  });

  it('sends the call id and never the upstream key', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: ask('hello') })
      .withResponse();
    expect(response.headers.get('x-flowgate-call-id')).toMatch(/.+/);
    expect(JSON.stringify(data)).not.toContain(UPSTREAM_KEY);
    expect([...response.headers.values()].join(' ')).not.toContain(UPSTREAM_KEY);
  });

  it('streams chunks as SSE, ending with [DONE]', async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: ask('count to five please'), stream: true })
      .withResponse();
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    let text = '';
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      // Without stream_options.include_usage the client gets no usage chunk (choices: []).
      expect(chunk.choices.length).toBe(1);
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Mock answer to: count to five please');
    expect(finish).toBe('stop');
    expect(chunks).toBeGreaterThan(3);
    expect(mock.stats().streamsCompleted).toBe(1);
  });

  it('streams the usage chunk when the client asks for it', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ask('one two three'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const usage = [];
    for await (const chunk of stream) if (chunk.usage) usage.push(chunk.usage);
    expect(usage).toEqual([expect.objectContaining({ prompt_tokens: 7, completion_tokens: 6 })]);
  });

  it('routes an alias to its deployment', async () => {
    const res = await openai.chat.completions.create({ model: 'smart', messages: ask('hi') });
    expect(res.model).toBe('gpt-4o');
  });

  it('returns tool calls, whole and streamed', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { query: { type: 'string' } } },
        },
      },
    ];
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask('weather in Paris'), tools });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: 'weather in Paris' });

    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: ask('weather in Paris'),
      tools,
      stream: true,
    });
    let args = '';
    let name = '';
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.tool_calls?.[0];
      if (d?.function?.name) name += d.function.name;
      if (d?.function?.arguments) args += d.function.arguments;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ query: 'weather in Paris' });
  });

  it('answers embeddings and lists models', async () => {
    const emb = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha beta', 'gamma'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]?.embedding).toHaveLength(64);
    expect(emb.usage.prompt_tokens).toBe(3);

    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    expect(models).toEqual(expect.arrayContaining(['smart', 'gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']));
    expect(models).not.toContain('broken-*');
    const one = await openai.models.retrieve('smart');
    expect(one).toMatchObject({ id: 'smart', object: 'model', owned_by: 'flowgate' });
  });
});

describe('errors with the official client', () => {
  it('401 for a wrong or missing gateway key', async () => {
    const bad = client(server, 'sk-not-a-key');
    const err = await bad.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('hi') }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.code).toBe('invalid_api_key');
    expect(err.type).toBe('invalid_request_error');

    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/missing API key/);
    // Nothing reached the upstream.
    expect(mock.stats().requests).toBe(0);
  });

  it('400 invalid_request_error naming the field', async () => {
    const err = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'wizard' as 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.type).toBe('invalid_request_error');
    expect(err.param).toBe('messages[0].role');

    const streamed = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [], stream: true })
      .catch((e) => e);
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect(streamed.param).toBe('messages');
    expect(mock.stats().requests).toBe(0);
  });

  it('404 model_not_found for a model no provider serves', async () => {
    const err = await openai.chat.completions.create({ model: 'nope-1', messages: ask('hi') }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(err.param).toBe('model');
  });

  it('429 with Retry-After when the concurrency limit sheds load', async () => {
    const limited = await startTestServer(mock, { limits: { maxConcurrent: 1 } });
    try {
      mock.script('slow', [{ type: 'hang' }]);
      const c = client(limited);
      const first = new AbortController();
      const hanging = c.chat.completions
        .create({ model: 'slow', messages: ask('wait') }, { signal: first.signal })
        .catch((e) => e);
      await until(() => limited.inFlight() === 1, 'first call in flight');
      const err = await c.chat.completions
        .create({ model: 'gpt-4o-mini', messages: ask('second') })
        .withResponse()
        .catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.status).toBe(429);
      expect(err.code).toBe('server_overloaded');
      expect(err.headers.get('retry-after')).toBe('1');
      first.abort();
      expect(await hanging).toBeInstanceOf(OpenAI.APIUserAbortError);
      // The shed call never reached the upstream; the aborted one was cut there too.
      await until(() => mock.stats().requestsAborted === 1, 'upstream call aborted');
      expect(mock.stats().byModel['gpt-4o-mini']).toBeUndefined();
      await until(() => limited.inFlight() === 0, 'no call in flight');
      // The slot is free again.
      const ok = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('third') });
      expect(ok.choices[0]?.message.content).toMatch(/third/);
    } finally {
      await limited.close();
    }
  });

  it('maps upstream failures: 429 keeps Retry-After, 5xx becomes 502', async () => {
    mock.script('flaky', [{ type: 'status', status: 429, retryAfter: 7 }]);
    const limited = await openai.chat.completions
      .create({ model: 'flaky', messages: ask('hi') })
      .withResponse()
      .catch((e) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.code).toBe('rate_limit_exceeded');

    mock.script('busy', [{ type: 'status', status: 503 }]);
    const down = await openai.chat.completions.create({ model: 'busy', messages: ask('hi') }).catch((e) => e);
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect(down.status).toBe(502);
    expect(down.code).toBe('upstream_error');
    expect(down.headers.get('x-flowgate-error-code')).toBe('FLOWGATE_ERR_UPSTREAM_SERVER');
  });

  it('ends a stream that fails after its first chunk with an error event', async () => {
    mock.script('broken-stream', [{ type: 'malformed-json' }]);
    const stream = await openai.chat.completions.create({
      model: 'broken-stream',
      messages: ask('this will break'),
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e) => e);
    expect(seen.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toMatch(/not JSON/);
    expect(err.code).toBe('upstream_error');
  });
});

describe('client disconnects', () => {
  it('a client abort mid-stream stops the upstream stream', async () => {
    mock.configure('slow-stream', { text: 'word '.repeat(400), tokensPerSecond: 50 });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: 'slow-stream', messages: ask('talk for a while'), stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    const reading = (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) chunks++;
        if (chunks === 3) controller.abort();
      }
    })().catch((e) => e);
    // The client ends its iteration quietly when its own signal aborts it.
    await reading;
    expect(chunks).toBe(3);
    await until(() => mock.stats().streamsAborted === 1, 'the mock saw its stream aborted');
    const stats = mock.stats();
    expect(stats.streamsCompleted).toBe(0);
    // The mock stopped producing: far fewer than the 400 words were sent.
    expect(stats.chunksSent).toBeLessThan(100);
    await until(() => server.inFlight() === 0, 'the server released the call');
  });

  it('a client that leaves a whole call aborts the upstream request', async () => {
    mock.script('slow', [{ type: 'hang' }]);
    const controller = new AbortController();
    const pending = openai.chat.completions
      .create({ model: 'slow', messages: ask('wait') }, { signal: controller.signal })
      .catch((e) => e);
    await until(() => mock.stats().requests === 1, 'the upstream call started');
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => mock.stats().requestsAborted === 1, 'the mock saw the request aborted');
  });
});

describe('keys', () => {
  it('accepts the configured key, case-insensitive scheme', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: ask('hi') }),
    });
    expect(res.status).toBe(200);
  });
});
