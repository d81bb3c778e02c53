import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chat, json, jsonEvents, parseSse, post, postJson } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';
import type { MockProvider } from './types.js';

const PATH = '/v1/chat/completions';
let mock: MockProvider;

beforeAll(async () => {
  mock = await startMockProvider({
    models: {
      fixed: { text: 'The fixed answer here.' },
      echo: { text: (q) => `echo ${q}` },
      cached: { cachedTokens: 5 },
    },
  });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const TOOLS = [
  { type: 'function', function: { name: 'search', parameters: { type: 'object' } } },
  { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
];

describe('whole chat completions', () => {
  it('answers with the default text and exact usage', async () => {
    const res = await post(mock.url, PATH, {
      model: 'gpt-mock',
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is' },
            { type: 'text', text: 'the answer?' },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await json(res);
    expect(body).toMatchObject({
      id: 'chatcmpl-mock-1',
      object: 'chat.completion',
      model: 'gpt-mock',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Mock answer to: What is the answer?' },
          finish_reason: 'stop',
        },
      ],
      // system: 3 words + 4; user: 4 words + 4; answer: 7 words
      usage: { prompt_tokens: 15, completion_tokens: 7, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } },
    });
    expect(Number.isInteger(body.created)).toBe(true);
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(120);
  });

  it('quotes at most 12 words of the last user message', async () => {
    const question = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen';
    const body = await postJson(mock.url, PATH, {
      model: 'gpt-mock',
      messages: [
        { role: 'user', content: 'an earlier question' },
        { role: 'assistant', content: 'an earlier answer' },
        { role: 'user', content: question },
      ],
    });
    expect(body.choices[0].message.content).toBe(
      'Mock answer to: one two three four five six seven eight nine ten eleven twelve',
    );
    expect(body.usage.prompt_tokens).toBe(3 + 4 + 3 + 4 + 14 + 4);
    expect(body.usage.completion_tokens).toBe(15);
  });

  it('uses configured text, string or function, and defaults for unknown models', async () => {
    const fixed = await postJson(mock.url, PATH, { ...chat('hi'), model: 'fixed' });
    expect(fixed.choices[0].message.content).toBe('The fixed answer here.');
    expect(fixed.usage.completion_tokens).toBe(4);
    expect(fixed.model).toBe('fixed');
    const echo = await postJson(mock.url, PATH, { ...chat('ping pong'), model: 'echo' });
    expect(echo.choices[0].message.content).toBe('echo ping pong');
    const other = await postJson(mock.url, PATH, { ...chat('ping'), model: 'never-configured' });
    expect(other.choices[0].message.content).toBe('Mock answer to: ping');
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const body = await postJson(mock.url, PATH, chat('a b c d e f', { max_tokens: 3 }));
    expect(body.choices[0].message.content).toBe('Mock answer to: ');
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.usage.completion_tokens).toBe(3);
    const mct = await postJson(mock.url, PATH, chat('a b c', { max_completion_tokens: 2 }));
    expect(mct.usage.completion_tokens).toBe(2);
  });

  it('reports cachedTokens as cached prompt tokens, capped at the prompt', async () => {
    const body = await postJson(mock.url, PATH, { ...chat('one two three'), model: 'cached' });
    expect(body.usage.prompt_tokens).toBe(7);
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(5);
    mock.configure('cached-big', { cachedTokens: 100 });
    const capped = await postJson(mock.url, PATH, { ...chat('one'), model: 'cached-big' });
    expect(capped.usage.prompt_tokens_details.cached_tokens).toBe(5);
  });

  it('answers 400 in OpenAI format for bad JSON and invalid requests', async () => {
    const bad = await post(mock.url, PATH, '{"model": ');
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null },
    });
    const noModel = await post(mock.url, PATH, { messages: [] });
    expect(noModel.status).toBe(400);
    expect((await json(noModel)).error.type).toBe('invalid_request_error');
    const noMessages = await post(mock.url, PATH, { model: 'm' });
    expect(noMessages.status).toBe(400);
  });
});

describe('tool calls', () => {
  it('calls the first tool with the last user text as query', async () => {
    const body = await postJson(mock.url, PATH, chat('weather in Paris', { tools: TOOLS }));
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_mock_\d+$/),
        type: 'function',
        function: { name: 'search', arguments: '{"query":"weather in Paris"}' },
      },
    ]);
    // completion tokens: words of '{"query":"weather in Paris"}'
    expect(body.usage.completion_tokens).toBe(3);
  });

  it('follows tool_choice: a named tool, or none', async () => {
    const named = await postJson(
      mock.url,
      PATH,
      chat('x', { tools: TOOLS, tool_choice: { type: 'function', function: { name: 'lookup' } } }),
    );
    expect(named.choices[0].message.tool_calls[0].function.name).toBe('lookup');
    const none = await postJson(mock.url, PATH, chat('x', { tools: TOOLS, tool_choice: 'none' }));
    expect(none.choices[0].message.content).toBe('Mock answer to: x');
    expect(none.choices[0].message.tool_calls).toBeUndefined();
  });

  it('answers in text after a tool result (unless a tool is required)', async () => {
    const conversation = {
      model: 'gpt-mock',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny and warm' },
      ],
    };
    const body = await postJson(mock.url, PATH, conversation);
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.choices[0].message.content).toBe('Mock answer to: weather?');
    // user 1+4, assistant 0+4, tool 3+4
    expect(body.usage.prompt_tokens).toBe(16);
    const required = await postJson(mock.url, PATH, { ...conversation, tool_choice: 'required' });
    expect(required.choices[0].finish_reason).toBe('tool_calls');
  });

  it('streams a tool call as a header delta then argument fragments', async () => {
    const res = await post(mock.url, PATH, chat('weather in Paris', { tools: TOOLS, stream: true }));
    const chunks = jsonEvents(await res.text()) as {
      choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
    }[];
    const deltas = chunks.map((c) => c.choices[0]!.delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: null });
    expect(deltas[1]).toEqual({
      tool_calls: [
        {
          index: 0,
          id: expect.stringMatching(/^call_mock_/),
          type: 'function',
          function: { name: 'search', arguments: '' },
        },
      ],
    });
    const fragments = deltas
      .slice(2, -1)
      .map((d) => (d.tool_calls as { function: { arguments: string } }[])[0]!.function.arguments);
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(fragments.length).toBeLessThanOrEqual(3);
    expect(JSON.parse(fragments.join(''))).toEqual({ query: 'weather in Paris' });
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
  });
});

describe('streamed chat completions', () => {
  it('sends a role chunk, one chunk per word, a finish chunk and [DONE]', async () => {
    const res = await post(mock.url, PATH, chat('hello big world', { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const text = await res.text();
    const events = parseSse(text);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = jsonEvents(text) as {
      id: string;
      object: string;
      model: string;
      choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    expect(
      chunks.every((c) => c.id === 'chatcmpl-mock-1' && c.object === 'chat.completion.chunk' && c.model === 'gpt-mock'),
    ).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const words = chunks.slice(1, -1).map((c) => c.choices[0]!.delta.content);
    expect(words).toEqual(['Mock ', 'answer ', 'to: ', 'hello ', 'big ', 'world']);
    expect(chunks.at(-1)!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
  });

  it('adds a usage chunk with choices [] before [DONE] when include_usage is set', async () => {
    const res = await post(mock.url, PATH, {
      ...chat('one two', { stream: true, stream_options: { include_usage: true } }),
      model: 'cached',
    });
    const events = parseSse(await res.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const usageChunk = JSON.parse(events.at(-2)!.data);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({
      prompt_tokens: 6,
      completion_tokens: 5,
      total_tokens: 11,
      prompt_tokens_details: { cached_tokens: 5 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('streams exactly the text of the whole response', async () => {
    const whole = await postJson(mock.url, PATH, chat('  spaced   out\nquestion '));
    const text = await (await post(mock.url, PATH, chat('  spaced   out\nquestion ', { stream: true }))).text();
    const streamed = (jsonEvents(text) as { choices: { delta: { content?: string } }[] }[])
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(streamed).toBe(whole.choices[0].message.content);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const text = await (await post(mock.url, PATH, chat('a b c', { stream: true, max_tokens: 2 }))).text();
    const chunks = jsonEvents(text) as { choices: { delta: { content?: string }; finish_reason: string | null }[] }[];
    expect(chunks.map((c) => c.choices[0]!.delta.content)).toEqual(['', 'Mock ', 'answer ', undefined]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });
});
