/**
 * Token counts against references built independently of this package:
 *  - the prompt_tokens the OpenAI API reported for the examples published in the OpenAI cookbook
 *    ("How to count tokens with tiktoken": 129/124 for the jargon transcript, 105/101 with a tool);
 *  - gpt-tokenizer's `countChatCompletionTokens` (a pure-JS BPE with its own chat and function rules);
 *  - the cookbook's message formula written out here over js-tiktoken (another BPE implementation).
 */
import type { ChatCompletionRequest, ChatMessage, FunctionTool, ToolChoice } from '@flowgate/core';
import { countChatCompletionTokens as gptTokenizer4Turbo } from 'gpt-tokenizer/model/gpt-4-turbo';
import { countChatCompletionTokens as gptTokenizer4o } from 'gpt-tokenizer/model/gpt-4o';
import { getEncoding } from 'js-tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledPrices, PriceTable } from './prices.js';
import { encoderRefs, TokenCounter, tiktokenEncoder, tokenizerFor } from './tokenizer.js';

const counter = new TokenCounter({ prices: new PriceTable(bundledPrices()) });
afterAll(() => counter.free());

const jargon: ChatMessage[] = [
  {
    role: 'system',
    content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
  },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  {
    role: 'system',
    name: 'example_user',
    content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  {
    role: 'system',
    name: 'example_assistant',
    content: "Let's talk later when we're less busy about how to do better.",
  },
  {
    role: 'user',
    content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
];

const weatherTool: FunctionTool = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  },
};
const weatherMessages: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
  { role: 'user', content: "What's the weather like in San Francisco?" },
];

describe('token counts: prompt_tokens published by the OpenAI API', () => {
  it.each([
    ['gpt-4o', 124],
    ['gpt-4o-mini', 124],
    ['gpt-4', 129],
    ['gpt-3.5-turbo', 129],
  ])('jargon transcript with names on %s = %i', (model, expected) => {
    expect(counter.count({ model, messages: jargon }).total).toBe(expected);
  });

  it.each([
    ['gpt-4o', 101],
    ['gpt-4o-mini', 101],
    ['gpt-4', 105],
    ['gpt-3.5-turbo', 105],
  ])('weather transcript with one tool on %s = %i', (model, expected) => {
    const c = counter.count({ model, messages: weatherMessages, tools: [weatherTool] });
    expect(c.total).toBe(expected);
    expect(c.exact).toBe(true);
  });
});

// ---- transcripts compared with gpt-tokenizer ------------------------------------------------

const tools: FunctionTool[] = [
  weatherTool,
  {
    type: 'function',
    function: {
      name: 'search_flights',
      description: 'Search flights between two airports.',
      parameters: {
        type: 'object',
        properties: {
          from: { type: 'string', description: 'IATA code of the departure airport' },
          to: { type: 'string', description: 'IATA code of the arrival airport' },
          passengers: { type: 'integer', description: 'How many travel', enum: [1, 2, 3, 4] },
          flexible: { type: 'boolean' },
          stops: { type: 'array', items: { type: 'string' } },
          filters: {
            type: 'object',
            description: 'Optional filters',
            properties: {
              maxPrice: { type: 'number', description: 'not shown: nested descriptions are dropped' },
              airlines: { type: 'array', items: { type: 'string', enum: ['AF', 'LH', 'BA'] } },
              cabin: { type: 'object', properties: { class: { type: 'string' } }, required: ['class'] },
            },
          },
          note: { type: 'null' },
          anything: {},
        },
        required: ['from', 'to'],
      },
    },
  },
  { type: 'function', function: { name: 'get_time' } },
  { type: 'function', function: { name: 'ping', description: 'Checks the service.', parameters: { type: 'object' } } },
];

const agentTurns: ChatMessage[] = [
  { role: 'system', content: 'You are a travel agent.\nBe brief.' },
  { role: 'user', content: 'Find me a flight from CDG to JFK for two, and tell me the weather in New York.' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'search_flights', arguments: '{"from":"CDG","to":"JFK","passengers":2}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '[{"flight":"AF006","price":812.5,"stops":0}]' },
  {
    role: 'assistant',
    content: 'Checking the weather too.',
    tool_calls: [
      {
        id: 'call_2',
        type: 'function',
        function: { name: 'get_current_weather', arguments: '{"location":"New York, NY","unit":"celsius"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'call_2', content: '{"temperature": 4, "sky": "overcast"}' },
  { role: 'assistant', content: 'AF006 leaves at 10:30 for €812.50; New York is 4 °C and overcast.' },
  { role: 'user', content: 'Thanks!' },
];

const transcripts: { name: string; request: Omit<ChatCompletionRequest, 'model'> }[] = [
  { name: 'one user message', request: { messages: [{ role: 'user', content: 'Hello there' }] } },
  { name: 'jargon with names', request: { messages: jargon } },
  {
    name: 'unicode, code and whitespace',
    request: {
      messages: [
        { role: 'system', content: 'Réponds en français. 日本語も大丈夫です。 🚀' },
        {
          role: 'user',
          content:
            'Fix this:\n```ts\nfunction add(a: number, b: number) {\n\treturn a - b;\n}\n```\n\n\n   trailing   ',
        },
        { role: 'assistant', content: 'Use `a + b`:\n\n    return a + b;' },
        { role: 'developer', content: 'Keep answers under 50 words.' },
        { role: 'user', name: 'alice', content: 'And in Python?' },
      ],
    },
  },
  { name: 'agent loop with tool calls and results', request: { messages: agentTurns } },
  { name: 'agent loop with tool definitions', request: { messages: agentTurns, tools } },
  {
    name: 'tools, no system message, tool_choice none',
    request: { messages: agentTurns.slice(1), tools, tool_choice: 'none' },
  },
  {
    name: 'tools, named tool_choice',
    request: {
      messages: [{ role: 'system', content: 'Ends with a newline\n' }, ...agentTurns.slice(1, 2)],
      tools: tools.slice(0, 1),
      tool_choice: { type: 'function', function: { name: 'get_current_weather' } },
    },
  },
  {
    name: 'two system messages with tools',
    request: { messages: [...jargon.slice(0, 3), ...agentTurns.slice(1)], tools },
  },
];

/** Maps a canonical request to gpt-tokenizer's (legacy `functions`) request shape. */
function toGptTokenizer(r: Omit<ChatCompletionRequest, 'model'>) {
  const messages = r.messages.map((m) => {
    const text = typeof m.content === 'string' ? m.content : '';
    const call = m.tool_calls?.[0]?.function;
    if ((m.tool_calls?.length ?? 0) > 1) throw new Error('gpt-tokenizer models one call per message');
    return {
      role: m.role,
      content: text,
      ...(m.name ? { name: m.name } : {}),
      ...(call ? { function_call: { name: call.name, arguments: call.arguments } } : {}),
    };
  });
  const choice = r.tool_choice as ToolChoice | undefined;
  const functionCall =
    choice === undefined || choice === 'auto' || choice === 'required'
      ? undefined
      : choice === 'none'
        ? ('none' as const)
        : { name: choice.function.name };
  return {
    messages,
    ...(r.tools ? { functions: r.tools.map((t) => t.function) } : {}),
    ...(functionCall ? { function_call: functionCall } : {}),
  } as GptTokenizerRequest;
}

type GptTokenizerRequest = Parameters<NonNullable<typeof gptTokenizer4o>>[0];
/** gpt-tokenizer defines the function only for models with function calling; these two have it. */
function reference(count: ((r: GptTokenizerRequest) => number) | undefined, r: GptTokenizerRequest): number {
  if (!count) throw new Error('gpt-tokenizer has no countChatCompletionTokens for this model');
  return count(r);
}

describe('token counts: equal to gpt-tokenizer over chat transcripts (tools included)', () => {
  for (const t of transcripts) {
    it(`${t.name}: o200k_base (gpt-4o, gpt-4.1, o3, gpt-5) and cl100k_base (gpt-4-turbo)`, () => {
      const reference200k = reference(gptTokenizer4o, toGptTokenizer(t.request));
      const reference100k = reference(gptTokenizer4Turbo, toGptTokenizer(t.request));
      for (const model of ['gpt-4o', 'gpt-4.1-mini', 'o3', 'gpt-5.4']) {
        expect(counter.count({ model, ...t.request }).total).toBe(reference200k);
      }
      expect(counter.count({ model: 'gpt-4-turbo', ...t.request }).total).toBe(reference100k);
    });
  }

  it('several tool calls in one assistant message cost the sum of single calls', () => {
    const [c1, c2] = [agentTurns[2]!.tool_calls![0]!, agentTurns[4]!.tool_calls![0]!];
    const both = counter.count({
      model: 'gpt-4o',
      messages: [{ role: 'assistant', content: null, tool_calls: [c1, c2] }],
    });
    const one = (c: typeof c1) =>
      counter.count({ model: 'gpt-4o', messages: [{ role: 'assistant', content: null, tool_calls: [c] }] }).total;
    // Each single-call request also pays the message overhead, role and priming once (3 + 1 + 3).
    expect(both.total).toBe(one(c1) + one(c2) - 7);
  });
});

describe('token counts: the cookbook message formula over js-tiktoken', () => {
  const enc = getEncoding('o200k_base');
  const cookbook = (messages: { role: string; content: string; name?: string }[]) => {
    let n = 3;
    for (const m of messages) {
      n += 3 + enc.encode(m.role, [], []).length + enc.encode(m.content, [], []).length;
      if (m.name) n += enc.encode(m.name, [], []).length + 1;
    }
    return n;
  };

  it('counts text that looks like special tokens as plain text, like the API', () => {
    const messages = [
      { role: 'user', content: 'What does <|endoftext|> mean, and <|im_start|>?' },
      { role: 'assistant', content: '<|endoftext|> ends a document.' },
    ] satisfies ChatMessage[];
    expect(counter.count({ model: 'gpt-4o', messages }).total).toBe(cookbook(messages));
  });

  it('counts long multilingual transcripts', () => {
    const paragraph =
      'Le petit prince regarda la planète. 小さな王子は星を見た。 The little prince looked at the planet, again and again; ';
    const messages = Array.from({ length: 12 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: paragraph.repeat(i + 1) + String(i),
    })) as ChatMessage[] as { role: 'user' | 'assistant'; content: string }[];
    expect(counter.count({ model: 'gpt-4o', messages }).total).toBe(cookbook(messages));
  });
});

describe('token counts: other providers are estimated', () => {
  it('estimates Claude models as o200k counts times the documented factor, and says so', () => {
    const exact = counter.count({ model: 'gpt-4o', messages: jargon });
    const claude = counter.count({ model: 'claude-sonnet-4-5-20250929', messages: jargon });
    expect(claude.exact).toBe(false);
    expect(claude.factor).toBe(1.2);
    expect(claude.messages).toEqual(exact.messages.map((n) => Math.ceil(n * 1.2)));
    const opus47 = counter.count({ model: 'claude-opus-4-7', messages: jargon });
    expect(opus47.factor).toBe(1.6);
    expect(opus47.total).toBeGreaterThan(claude.total);
  });

  it('adds Anthropic tool-use system prompt tokens for tools', () => {
    const without = counter.count({ model: 'claude-haiku-4-5', messages: weatherMessages });
    const auto = counter.count({ model: 'claude-haiku-4-5', messages: weatherMessages, tools: [weatherTool] });
    const forced = counter.count({
      model: 'claude-haiku-4-5',
      messages: weatherMessages,
      tools: [weatherTool],
      tool_choice: 'required',
    });
    expect(auto.tools).toBeGreaterThan(346);
    expect(auto.tools - forced.tools).toBe(346 - 313);
    expect(auto.total - without.total).toBe(auto.tools);
  });

  it('infers tokenizers from model names', () => {
    expect(tokenizerFor('gpt-4o-2024-08-06').encoding).toBe('o200k_base');
    expect(tokenizerFor('openai/gpt-4.1').encoding).toBe('o200k_base');
    expect(tokenizerFor('o4-mini').encoding).toBe('o200k_base');
    expect(tokenizerFor('gpt-4-0613').encoding).toBe('cl100k_base');
    expect(tokenizerFor('gpt-3.5-turbo').encoding).toBe('cl100k_base');
    expect(tokenizerFor('llama-3.1-70b')).toMatchObject({ exact: false, family: 'other', factor: 1.2 });
  });

  it('counts image parts with the documented estimate', () => {
    const text = counter.count({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }] }],
    });
    const withImages = counter.count({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'https://example.test/a.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://example.test/b.png' } },
          ],
        },
      ],
    });
    expect(withImages.total - text.total).toBe(85 + 765);
  });
});

describe('TokenCounter: another BPE engine', () => {
  it('counts identically with gpt-tokenizer plugged in as the encoder', async () => {
    const o200k = await import('gpt-tokenizer/encoding/o200k_base');
    const cl100k = await import('gpt-tokenizer/encoding/cl100k_base');
    let freed = 0;
    const pure = new TokenCounter({
      encoder: (encoding) => ({
        count: (text) => (encoding === 'o200k_base' ? o200k : cl100k).countTokens(text),
        free: () => freed++,
      }),
    });
    for (const t of transcripts) {
      for (const model of ['gpt-4o', 'gpt-4-turbo', 'claude-haiku-4-5']) {
        expect(pure.count({ model, ...t.request })).toEqual(counter.count({ model, ...t.request }));
      }
    }
    pure.free();
    expect(freed).toBe(2);
  });
});

describe('TokenCounter: memoization and encoders', () => {
  const turn = (i: number): ChatMessage[] => [
    { role: 'user', content: `Question ${i}: how do keep-alive connections cut latency for call number ${i}?` },
    { role: 'assistant', content: `Answer ${i}: they skip the TCP and TLS handshakes, so call ${i} starts sooner.` },
  ];

  it('a growing conversation encodes only its new messages, with the same counts as no memo', () => {
    const memo = new TokenCounter();
    const plain = new TokenCounter({ cacheEntries: 0 });
    try {
      const messages: ChatMessage[] = [{ role: 'system', content: 'You are a networking expert.' }];
      let lastMisses = 0;
      for (let i = 0; i < 20; i++) {
        // A fresh copy of every message, as a server parsing each request gets: the memo is keyed by text.
        messages.push(...turn(i));
        const copy = structuredClone(messages);
        const counted = memo.count({ model: 'gpt-4o', messages: copy });
        expect(counted.total).toBe(plain.count({ model: 'gpt-4o', messages: copy }).total);
        const { misses } = memo.stats();
        // The first call also encodes the system prompt and the three role names.
        expect(misses - lastMisses).toBe(i === 0 ? 2 + 1 + 3 : 2);
        lastMisses = misses;
      }
      expect(plain.stats().entries).toBe(0);
      expect(memo.stats().encoders).toBe(1);
    } finally {
      memo.free();
      plain.free();
    }
  });

  it('recognises the same message objects without a lookup, and notices when their text changed', () => {
    const c = new TokenCounter();
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are brief.' },
      { role: 'user', content: 'Hello there, how are you?' },
    ];
    const first = c.count({ model: 'gpt-4o', messages }).total;
    const { hits, misses } = c.stats();
    expect(c.count({ model: 'gpt-4o', messages }).total).toBe(first);
    // Same objects: neither hits nor misses in the text memo.
    expect(c.stats()).toMatchObject({ hits, misses });
    messages[1]!.content = 'Hello there, how are you doing today, my friend?';
    const changed = c.count({ model: 'gpt-4o', messages }).total;
    const plain = new TokenCounter({ cacheEntries: 0 });
    expect(changed).toBe(plain.count({ model: 'gpt-4o', messages }).total);
    expect(changed).toBeGreaterThan(first);
    expect(c.stats().misses).toBe(misses + 1);
    c.free();
    plain.free();
  });

  it('uses one tiktoken encoder per encoding, shared and reused, freed with its last user', () => {
    const c = new TokenCounter({ encoder: tiktokenEncoder });
    const other = new TokenCounter({ encoder: tiktokenEncoder });
    const refs = encoderRefs('cl100k_base');
    c.count({ model: 'gpt-4o', messages: jargon });
    c.count({ model: 'gpt-4o-mini', messages: weatherMessages });
    expect(c.stats().encoders).toBe(1);
    const before = c.count({ model: 'gpt-4', messages: jargon }).total;
    other.count({ model: 'gpt-3.5-turbo', messages: jargon });
    expect(c.stats().encoders).toBe(2);
    expect(encoderRefs('cl100k_base')).toBe(refs + 2);
    c.free();
    expect(c.stats().entries).toBe(0);
    expect(encoderRefs('cl100k_base')).toBe(refs + 1);
    other.free();
    expect(encoderRefs('cl100k_base')).toBe(refs);
    // Still usable after free(): it acquires an encoder again.
    expect(c.count({ model: 'gpt-4', messages: jargon }).total).toBe(before);
    expect(encoderRefs('cl100k_base')).toBe(refs + 1);
    c.free();
    expect(encoderRefs('cl100k_base')).toBe(refs);
  });

  it('bounds the memo by entries and by characters', () => {
    const c = new TokenCounter({ cacheEntries: 5, cacheChars: 1000 });
    for (let i = 0; i < 50; i++) c.text(`text number ${i}`);
    expect(c.stats().entries).toBe(5);
    c.text('x'.repeat(600));
    c.text('y'.repeat(600));
    expect(c.stats().entries).toBeLessThanOrEqual(5);
    // A text longer than the whole budget is counted but not kept.
    expect(c.text('z '.repeat(800))).toBeGreaterThan(0);
    const { entries } = c.stats();
    c.text('z '.repeat(800));
    expect(c.stats().entries).toBe(entries);
    c.free();
  });
});
