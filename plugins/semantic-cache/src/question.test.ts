import type { ChatCompletionRequest } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { partitionOf, questionOf } from './question.js';

const req = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse. Today is 2025-01-02.' },
    { role: 'user', content: 'What is DNA?' },
  ],
  ...extra,
});
const KEY = 'v1:t.acme:-:gpt-4o-mini:-:hash1';

describe('questionOf', () => {
  it('takes the last user message, when it is text', () => {
    expect(questionOf(req())).toEqual({ text: 'What is DNA?', userTurns: 1 });
    expect(
      questionOf(
        req({
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Hi ' },
                { type: 'text', text: 'there' },
              ],
            },
          ],
        }),
      ),
    ).toEqual({ text: 'Hi there', userTurns: 1 });
    expect(
      questionOf(req({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] })),
    ).toBeUndefined();
    expect(questionOf(req({ messages: [{ role: 'assistant', content: 'Hello' }] }))).toBeUndefined();
    expect(questionOf(req({ messages: [{ role: 'user', content: '   ' }] }))).toBeUndefined();
  });
});

describe('partitionOf', () => {
  const base = partitionOf(req(), {}, KEY);

  it('starts with the exact key’s scope: tenant, user, model, prompt tag', () => {
    expect(base.startsWith('v1:t.acme:-:gpt-4o-mini:-|')).toBe(true);
    expect(partitionOf(req(), {}, 'v1:t.globex:-:gpt-4o-mini:-:hash1')).not.toBe(base);
    expect(partitionOf(req(), {}, 'v1:t.acme:u.ann:gpt-4o-mini:-:hash1')).not.toBe(base);
  });

  it('ignores the question itself and the date in a system prompt, like the exact cache', () => {
    const other = req({
      messages: [
        { role: 'system', content: 'You are terse.  Today is 2025-03-04' },
        { role: 'user', content: 'Explain DNA' },
      ],
    });
    expect(partitionOf(other, {}, 'v1:t.acme:-:gpt-4o-mini:-:hash2')).toBe(base);
  });

  it('separates system prompts, earlier turns, tools, response formats, sampling and locales', () => {
    const variants: ChatCompletionRequest[] = [
      req({
        messages: [
          { role: 'system', content: 'You are a pirate.' },
          { role: 'user', content: 'What is DNA?' },
        ],
      }),
      req({
        messages: [
          { role: 'system', content: 'You are terse. Today is 2025-01-02.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
          { role: 'user', content: 'What is DNA?' },
        ],
      }),
      req({ tools: [{ type: 'function', function: { name: 'lookup' } }] }),
      req({ response_format: { type: 'json_object' } }),
      req({ temperature: 0 }),
      req({ max_tokens: 10 }),
    ];
    const partitions = new Set(variants.map((v) => partitionOf(v, {}, KEY)));
    expect(partitions.size).toBe(variants.length);
    expect(partitions.has(base)).toBe(false);
    expect(partitionOf(req(), { tags: { locale: 'fr-FR' } }, KEY)).not.toBe(base);
  });
});
