import { type ChatCompletionChunk, ChunkAssembler, InvalidRequestError } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamMapper,
  finishReason,
  fromAnthropicResponse,
  mapUsage,
  toAnthropicRequest,
} from './anthropic-mapping.js';

describe('toAnthropicRequest', () => {
  it('moves system and developer messages to `system` and maps a plain exchange', () => {
    const out = toAnthropicRequest(
      {
        model: 'claude-x',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
      },
      4096,
      false,
    );
    expect(out).toEqual({
      model: 'claude-x',
      max_tokens: 4096,
      system: 'be brief',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('keeps several system texts as blocks', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'a' },
          { role: 'developer', content: [{ type: 'text', text: 'b' }] },
          { role: 'user', content: 'q' },
        ],
      },
      10,
      false,
    );
    expect(out.system).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]);
  });

  it('maps sampling options, stop, user and max tokens (max_completion_tokens first)', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [{ role: 'user', content: 'q' }],
        temperature: 0.2,
        top_p: 0.9,
        stop: 'END',
        max_tokens: 50,
        max_completion_tokens: 70,
        user: 'u-1',
        seed: 3,
      },
      4096,
      true,
    );
    expect(out).toMatchObject({
      max_tokens: 70,
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      stream: true,
    });
    expect(out).not.toHaveProperty('seed');
    expect(toAnthropicRequest({ model: 'm', messages: [], max_tokens: 5, stop: ['a', 'b'] }, 1, false)).toMatchObject({
      max_tokens: 5,
      stop_sequences: ['a', 'b'],
    });
  });

  it('maps image parts (data URL and http URL)', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAB' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      },
      1,
      false,
    );
    expect(out.messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAB' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('maps tool calls to tool_use, tool messages to tool_result and merges consecutive same-role turns', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Let me check.',
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              { id: 'c2', type: 'function', function: { name: 'weather', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'rain' }] },
          { role: 'user', content: 'thanks' },
        ],
        tools: [
          {
            type: 'function',
            function: { name: 'weather', description: 'get weather', parameters: { type: 'object', properties: {} } },
          },
          { type: 'function', function: { name: 'noargs' } },
        ],
        tool_choice: 'required',
      },
      1,
      false,
    );
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'c1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'c2', name: 'weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'c2', content: [{ type: 'text', text: 'rain' }] },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      { name: 'weather', description: 'get weather', input_schema: { type: 'object', properties: {} } },
      { name: 'noargs', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(out.tool_choice).toEqual({ type: 'any' });
  });

  it('merges consecutive user messages', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      },
      1,
      false,
    );
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
  });

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['auto', false, { type: 'auto', disable_parallel_tool_use: true }],
    ['none', undefined, { type: 'none' }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    [{ type: 'function', function: { name: 'f' } }, undefined, { type: 'tool', name: 'f' }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    [undefined, undefined, undefined],
  ] as const)('maps tool_choice %j (parallel_tool_calls %j)', (choice, parallel, expected) => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [{ role: 'user', content: 'q' }],
        tools: [{ type: 'function', function: { name: 'f' } }],
        ...(choice !== undefined ? { tool_choice: choice } : {}),
        ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}),
      },
      1,
      false,
    );
    expect(out.tool_choice).toEqual(expected);
  });

  it('drops tool_choice when there are no tools', () => {
    expect(
      toAnthropicRequest({ model: 'm', messages: [{ role: 'user', content: 'q' }], tool_choice: 'auto' }, 1, false),
    ).not.toHaveProperty('tool_choice');
  });

  it('rejects tool arguments that are not JSON and tool messages without an id', () => {
    expect(() =>
      toAnthropicRequest(
        {
          model: 'm',
          messages: [
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: '{oops' } }],
            },
          ],
        },
        1,
        false,
      ),
    ).toThrow(InvalidRequestError);
    expect(() => toAnthropicRequest({ model: 'm', messages: [{ role: 'tool', content: 'r' }] }, 1, false)).toThrow(
      /tool_call_id/,
    );
  });
});

describe('responses', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, null],
  ] as const)('maps stop_reason %s to %s', (reason, expected) => {
    expect(finishReason(reason)).toBe(expected);
  });

  it('maps usage: prompt includes cache reads and writes', () => {
    expect(
      mapUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 }),
    ).toEqual({
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 20 },
    });
  });

  it('maps a whole message with text and tool use', () => {
    const out = fromAnthropicResponse({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'text', text: 'Checking ' },
        { type: 'thinking' },
        { type: 'text', text: 'now.' },
        { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 3, output_tokens: 4 },
    });
    expect(out).toMatchObject({
      id: 'msg_1',
      object: 'chat.completion',
      model: 'claude-x',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'Checking now.',
            tool_calls: [
              { id: 'tu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
    expect(typeof out.created).toBe('number');
  });

  it('has null content when there is no text', () => {
    const out = fromAnthropicResponse({
      id: 'm',
      type: 'message',
      role: 'assistant',
      model: 'c',
      content: [],
      stop_reason: 'end_turn',
    });
    expect(out.choices[0]!.message.content).toBeNull();
    expect(out.choices[0]!.message).not.toHaveProperty('tool_calls');
  });
});

describe('AnthropicStreamMapper', () => {
  const events = [
    {
      type: 'message_start',
      message: {
        id: 'msg_s',
        model: 'claude-x',
        usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 40, cache_creation_input_tokens: 8 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'ping' },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'tu_1', name: 'weather', input: {} },
    },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
    { type: 'content_block_stop', index: 1 },
    { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'tu_2', name: 'time', input: {} } },
    { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
    { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
    { type: 'message_stop' },
  ];

  function mapAll(): { chunks: ChatCompletionChunk[]; mapper: AnthropicStreamMapper } {
    const mapper = new AnthropicStreamMapper();
    const chunks: ChatCompletionChunk[] = [];
    for (const e of events) {
      const c = mapper.map(e);
      if (c) chunks.push(c);
    }
    return { chunks, mapper };
  }

  it('emits a role chunk first, deltas, a finish chunk and a final usage chunk with no choices', () => {
    const { chunks, mapper } = mapAll();
    expect(mapper.done).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(
      chunks.every((c) => c.id === 'msg_s' && c.model === 'claude-x' && c.object === 'chat.completion.chunk'),
    ).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hello' },
      { content: ' world' },
      { tool_calls: [{ index: 0, id: 'tu_1', type: 'function', function: { name: 'weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'tu_2', type: 'function', function: { name: 'time', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
      {},
      undefined,
    ]);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('tool_calls');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 60,
      completion_tokens: 9,
      total_tokens: 69,
      prompt_tokens_details: { cached_tokens: 40, cache_creation_tokens: 8 },
    });
  });

  it('assembles to the same answer as the whole message', () => {
    const assembler = new ChunkAssembler();
    for (const c of mapAll().chunks) assembler.add(c);
    const streamed = assembler.result();
    const whole = fromAnthropicResponse({
      id: 'msg_s',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'text', text: 'Hello world' },
        { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'tu_2', name: 'time', input: {} },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 12, output_tokens: 9, cache_read_input_tokens: 40, cache_creation_input_tokens: 8 },
    });
    expect(streamed.choices).toEqual(whole.choices);
    expect(streamed.usage).toEqual(whole.usage);
  });
});
