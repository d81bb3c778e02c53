import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidRequestError } from './errors.js';
import { validateRequest } from './validate.js';

const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function fieldOf(req: unknown): string | undefined {
  try {
    validateRequest(req);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).code).toBe(ErrorCode.INVALID_REQUEST);
    return (err as InvalidRequestError).field;
  }
}

describe('validateRequest', () => {
  it('accepts a well-formed request, tools and tool turns included', () => {
    expect(
      fieldOf({
        ...ok,
        temperature: 0.2,
        stop: ['x'],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 't', content: '42' },
        ],
      }),
    ).toBeUndefined();
  });

  it.each([
    ['request', null],
    ['request', 'text'],
    ['model', { messages: ok.messages }],
    ['model', { ...ok, model: '' }],
    ['model', { ...ok, model: 42 }],
    ['messages', { model: 'm' }],
    ['messages', { model: 'm', messages: [] }],
    ['messages', { model: 'm', messages: 'hi' }],
    ['messages[0]', { model: 'm', messages: ['hi'] }],
    ['messages[0].role', { model: 'm', messages: [{ content: 'hi' }] }],
    [
      'messages[1].role',
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'a' },
          { role: 'wizard', content: 'b' },
        ],
      },
    ],
    ['messages[0].content', { model: 'm', messages: [{ role: 'user' }] }],
    ['messages[0].content', { model: 'm', messages: [{ role: 'user', content: 7 }] }],
    ['messages[0].content[0].text', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 1 }] }] }],
    ['messages[0].content[0].type', { model: 'm', messages: [{ role: 'user', content: [{ type: 'audio' }] }] }],
    ['messages[0].tool_call_id', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }],
    ['messages[0].tool_calls', { model: 'm', messages: [{ role: 'user', content: 'x', tool_calls: [] }] }],
    ['temperature', { ...ok, temperature: '0.5' }],
    ['temperature', { ...ok, temperature: 3 }],
    ['top_p', { ...ok, top_p: -1 }],
    ['max_tokens', { ...ok, max_tokens: 1.5 }],
    ['max_tokens', { ...ok, max_tokens: 0 }],
    ['stream', { ...ok, stream: 'yes' }],
    ['stop', { ...ok, stop: [1] }],
    ['tools', { ...ok, tools: {} }],
    ['tools[0].function.name', { ...ok, tools: [{ type: 'function', function: {} }] }],
    ['tool_choice', { ...ok, tool_choice: 'sometimes' }],
    ['response_format.type', { ...ok, response_format: { type: 'xml' } }],
  ])('names %s', (field, req) => {
    expect(fieldOf(req)).toBe(field);
  });
});
