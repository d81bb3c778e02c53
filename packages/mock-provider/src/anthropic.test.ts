import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { json, messages, parseSse, post, postJson } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';
import type { MockProvider } from './types.js';

const PATH = '/v1/messages';
let mock: MockProvider;

beforeAll(async () => {
  mock = await startMockProvider({
    models: { cached: { cachedTokens: 6, cacheCreationTokens: 3 }, fixed: { text: 'Short fixed reply.' } },
  });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const TOOLS = [
  { name: 'search', description: 'Search the web', input_schema: { type: 'object' } },
  { name: 'lookup', input_schema: { type: 'object' } },
];

describe('whole messages', () => {
  it('answers with a text block and exact usage (system counted)', async () => {
    const res = await post(mock.url, PATH, {
      ...messages('Where is Paris?'),
      system: [
        { type: 'text', text: 'Answer in' },
        { type: 'text', text: 'one word.' },
      ],
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      id: 'msg_mock_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-mock',
      content: [{ type: 'text', text: 'Mock answer to: Where is Paris?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      // messages: 3 + 4; system: 4 + 4; answer: 6 words
      usage: { input_tokens: 15, output_tokens: 6, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });

  it('counts text blocks and tool results in the prompt, and answers the last user text', async () => {
    const body = await postJson(mock.url, PATH, {
      model: 'claude-mock',
      max_tokens: 100,
      system: 'be brief',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'weather in Rome?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'search', input: { query: 'x' } }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'sunny' }] }],
        },
      ],
      tools: TOOLS,
    });
    // after a tool result the mock answers in text
    expect(body.content).toEqual([{ type: 'text', text: 'Mock answer to: weather in Rome?' }]);
    expect(body.stop_reason).toBe('end_turn');
    // system 2+4; user 3+4; assistant 0+4; tool result 1+4
    expect(body.usage.input_tokens).toBe(22);
  });

  it('excludes cache reads and writes from input_tokens', async () => {
    const body = await postJson(mock.url, PATH, { ...messages('a b c d e f'), model: 'cached' });
    expect(body.usage).toEqual({
      input_tokens: 1,
      cache_read_input_tokens: 6,
      cache_creation_input_tokens: 3,
      output_tokens: 9,
    });
  });

  it('stops at max_tokens', async () => {
    const body = await postJson(mock.url, PATH, { ...messages('q'), max_tokens: 2 });
    expect(body.content[0].text).toBe('Mock answer ');
    expect(body.stop_reason).toBe('max_tokens');
    expect(body.usage.output_tokens).toBe(2);
  });

  it('answers errors in Anthropic format', async () => {
    const bad = await post(mock.url, PATH, 'not json');
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.any(String) },
    });
    const noMax = await post(mock.url, PATH, { model: 'claude-mock', messages: [{ role: 'user', content: 'hi' }] });
    expect(noMax.status).toBe(400);
    expect((await json(noMax)).error.message).toMatch(/max_tokens/);
  });
});

describe('tool use', () => {
  it('answers with a tool_use block for the first tool', async () => {
    const body = await postJson(mock.url, PATH, messages('find cats', { tools: TOOLS }));
    expect(body.content).toEqual([
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_mock_\d+$/),
        name: 'search',
        input: { query: 'find cats' },
      },
    ]);
    expect(body.stop_reason).toBe('tool_use');
    expect(body.usage.output_tokens).toBe(2);
  });

  it('follows tool_choice', async () => {
    const named = await postJson(
      mock.url,
      PATH,
      messages('x', { tools: TOOLS, tool_choice: { type: 'tool', name: 'lookup' } }),
    );
    expect(named.content[0].name).toBe('lookup');
    const none = await postJson(mock.url, PATH, messages('x', { tools: TOOLS, tool_choice: { type: 'none' } }));
    expect(none.content[0].type).toBe('text');
  });

  it('streams a tool_use block with input_json_delta fragments', async () => {
    const text = await (await post(mock.url, PATH, messages('find cats', { tools: TOOLS, stream: true }))).text();
    const events = parseSse(text).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
    expect(events[1]!.data.content_block).toEqual({
      type: 'tool_use',
      id: expect.stringMatching(/^toolu_mock_/),
      name: 'search',
      input: {},
    });
    const fragments = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => {
        expect(e.data.delta.type).toBe('input_json_delta');
        return e.data.delta.partial_json as string;
      });
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fragments.join(''))).toEqual({ query: 'find cats' });
    const delta = events.find((e) => e.event === 'message_delta')!;
    expect(delta.data.delta.stop_reason).toBe('tool_use');
  });
});

describe('streamed messages', () => {
  it('sends the full event sequence with one text_delta per word', async () => {
    const res = await post(mock.url, PATH, { ...messages('hello', { stream: true }), model: 'fixed' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    expect(data.every((d, i) => d.type === events[i]!.event)).toBe(true);
    expect(data[0].message).toMatchObject({
      id: 'msg_mock_1',
      role: 'assistant',
      model: 'fixed',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(data[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(data.slice(3, 6).map((d) => d.delta)).toEqual([
      { type: 'text_delta', text: 'Short ' },
      { type: 'text_delta', text: 'fixed ' },
      { type: 'text_delta', text: 'reply.' },
    ]);
    expect(data[7]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 3 },
    });
  });

  it('reports cache tokens in message_start', async () => {
    const events = parseSse(
      await (await post(mock.url, PATH, { ...messages('a b c d e f', { stream: true }), model: 'cached' })).text(),
    );
    expect(JSON.parse(events[0]!.data).message.usage).toMatchObject({
      input_tokens: 1,
      cache_read_input_tokens: 6,
      cache_creation_input_tokens: 3,
    });
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const events = parseSse(await (await post(mock.url, PATH, messages('q', { stream: true, max_tokens: 1 }))).text());
    expect(events.filter((e) => e.event === 'content_block_delta')).toHaveLength(1);
    const delta = JSON.parse(events.find((e) => e.event === 'message_delta')!.data);
    expect(delta.delta.stop_reason).toBe('max_tokens');
    expect(delta.usage.output_tokens).toBe(1);
  });
});
