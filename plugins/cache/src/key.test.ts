import type { CallOptions, ChatCompletionRequest } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { encodeSegment, KeyBuilder, tagPattern } from './key.js';
import { type CacheOptions, resolveOptions } from './options.js';
import { Policy } from './policy.js';
import { TextMemo } from './text-memo.js';
import { partOfDayBucket } from './time-bucket.js';
import type { CacheCallView } from './types.js';

function keyer(options: CacheOptions = {}) {
  const config = resolveOptions(options);
  const memo = new TextMemo();
  const policy = new Policy(config, memo);
  const keys = new KeyBuilder(config, memo);
  return (request: ChatCompletionRequest, callOptions: CallOptions = {}, now = Date.parse('2026-11-28T09:00:00Z')) => {
    const view: CacheCallView = { request, metadata: callOptions.metadata ?? {}, options: callOptions };
    const d = policy.decide(view);
    if (!d.cache) throw new Error(`not cached: ${d.reason}`);
    return keys.build(view, d, now);
  };
}

const base: ChatCompletionRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
};

describe('keys', () => {
  const key = keyer();

  it('are stable, and ignore what does not decide the answer', () => {
    const k = key(base);
    expect(key(structuredClone(base))).toBe(k);
    const reordered: ChatCompletionRequest = {
      messages: base.messages.map((m) => ({ content: m.content, role: m.role })),
      model: base.model,
    };
    expect(key(reordered)).toBe(k);
    expect(key({ ...base, stream: true, stream_options: { include_usage: true } })).toBe(k);
    expect(key({ ...base, user: 'end-user-42', metadata: { request_id: 'r-1' } })).toBe(k);
    expect(key(base, { metadata: { user: 'u1', tags: { trace: 'abc' } }, timeoutMs: 5000 })).toBe(k);
  });

  it('change with everything that decides the answer', () => {
    const k = key(base);
    const variants: Partial<ChatCompletionRequest>[] = [
      { model: 'gpt-4o' },
      { temperature: 0 },
      { top_p: 0.5 },
      { n: 2 },
      { seed: 7 },
      { max_tokens: 10 },
      { max_completion_tokens: 11 },
      { stop: ['\n'] },
      { presence_penalty: 0.5 },
      { frequency_penalty: 0.5 },
      { response_format: { type: 'json_object' } },
      { tools: [{ type: 'function', function: { name: 'calc', parameters: { type: 'object' } } }] },
      { tool_choice: 'required' },
      { parallel_tool_calls: false },
      {
        messages: [...base.messages, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'And Spain?' }],
      },
      { messages: [{ role: 'user', content: 'What is the capital of France?' }] },
      { messages: [{ role: 'system', content: 'You are terse.', name: 'x' }, base.messages[1]!] },
    ];
    const keys = variants.map((v) => key({ ...base, ...v }));
    expect(new Set([k, ...keys]).size).toBe(variants.length + 1);
    // max_tokens and max_completion_tokens are one limit to the providers.
    expect(key({ ...base, max_tokens: 10 })).toBe(key({ ...base, max_completion_tokens: 10 }));
  });

  it('treat tool-call ids as ordinals (providers mint new ones each time)', () => {
    const convo = (id: string): ChatCompletionRequest => ({
      model: 'm',
      messages: [
        { role: 'user', content: 'Compute 2+2' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name: 'calc', arguments: '{"e":"2+2"}' } }],
        },
        { role: 'tool', tool_call_id: id, content: '4' },
      ],
    });
    expect(key(convo('call_abc'))).toBe(key(convo('call_xyz')));
    const other = convo('call_abc');
    other.messages[2]!.content = '5';
    expect(key(other)).not.toBe(key(convo('call_abc')));
  });

  it('put the tenant, the user of a personalized call and the prompt tag in the key itself', () => {
    const personal = keyer({ mode: 'always' });
    const a = key(base, { metadata: { tenant: 'acme' } });
    expect(a).toMatch(/^v1:t\.acme:-:gpt-4o-mini:-:[A-Za-z0-9_-]{43}$/);
    expect(key(base)).toMatch(/^v1:-:-:gpt-4o-mini:-:/);
    expect(key(base, { metadata: { tenant: 'acme', tags: { prompt: 'faq-v2' } } })).toMatch(
      /^v1:t\.acme:-:gpt-4o-mini:p\.faq-v2:/,
    );
    expect(personal(base, { metadata: { tenant: 'acme', user: 'jo' }, cache: { personalized: true } })).toMatch(
      /^v1:t\.acme:u\.jo:gpt-4o-mini:-:/,
    );
    // Same hash, different scope: the hash never carries the tenant alone.
    expect(a.split(':').at(-1)).toBe(
      key(base, { metadata: { tenant: 'globex' } })
        .split(':')
        .at(-1),
    );
  });

  it('encode segments injectively to characters that are never separators or wildcards', () => {
    const samples = new Set<string>();
    const alphabet = [
      'a',
      'A',
      '0',
      ':',
      '*',
      '?',
      '%',
      '-',
      '.',
      '_',
      '~',
      ' ',
      '[',
      '\\',
      'é',
      '東',
      '\uD83D',
      '\uDC4B',
      '%00',
    ];
    const encoded = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = 1 + (i % 5);
      for (let j = 0; j < n; j++) s += alphabet[(i * 7 + j * 13 + ((i >> 3) ^ j)) % alphabet.length];
      if (samples.has(s)) continue;
      samples.add(s);
      const e = encodeSegment(s);
      expect(e).toMatch(/^[A-Za-z0-9._~%-]+$/);
      encoded.add(e);
    }
    expect(encoded.size).toBe(samples.size);
    expect(encodeSegment('ac:me')).toBe('ac%003Ame');
    expect(encodeSegment('acme')).toBe('acme');
  });

  it('normalize message text in smart mode only', () => {
    const smart = keyer();
    const always = keyer({ mode: 'always' });
    const q = (content: string): ChatCompletionRequest => ({ model: 'm', messages: [{ role: 'user', content }] });
    expect(smart(q("What's the weather in Paris?"))).toBe(smart(q('  what is the WEATHER in paris ')));
    expect(always(q("What's the weather in Paris?"))).not.toBe(always(q('what is the weather in paris')));
    expect(keyer({ mode: 'always', normalize: true })(q('A  b?'))).toBe(
      keyer({ mode: 'always', normalize: true })(q('a b')),
    );
    expect(keyer({ normalize: false })(q('A b'))).not.toBe(keyer({ normalize: false })(q('a b')));
    // Images are part of the key, by URL.
    const img = (url: string): ChatCompletionRequest => ({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    expect(smart(img('https://x/a.png'))).not.toBe(smart(img('https://x/b.png')));
  });

  it('context keying: locale always, the time bucket for time-sensitive questions only', () => {
    const ctxKey = keyer({ keying: 'context' });
    const morning = Date.parse('2026-11-28T09:00:00Z');
    const evening = Date.parse('2026-11-28T19:00:00Z');
    const timely: ChatCompletionRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'Weather in Paris today?' }],
    };
    expect(ctxKey(timely, {}, morning)).toBe(ctxKey(timely, {}, morning + 3_600_000));
    expect(ctxKey(timely, {}, morning)).not.toBe(ctxKey(timely, {}, evening));
    expect(ctxKey(base, {}, morning)).toBe(ctxKey(base, {}, evening));
    expect(ctxKey(base, { metadata: { tags: { locale: 'fr-FR' } } })).not.toBe(
      ctxKey(base, { metadata: { tags: { locale: 'en-GB' } } }),
    );
    expect(key(base, { metadata: { tags: { locale: 'fr-FR' } } })).toBe(
      key(base, { metadata: { tags: { locale: 'en-GB' } } }),
    );
    const custom = keyer({ keying: 'context', timeBucket: (now) => String(Math.floor(now / 60_000)) });
    expect(custom(timely, {}, morning)).not.toBe(custom(timely, {}, morning + 60_000));
  });
});

describe('tag patterns', () => {
  it('match segments by name, encoded', () => {
    expect(tagPattern({})).toBe('v1:*:*:*:*:*');
    expect(tagPattern({ tenant: 'acme corp', model: 'gpt-4o' })).toBe('v1:t.acme%0020corp:*:gpt-4o:*:*');
    expect(tagPattern({ tenant: null, user: 'u1', promptTag: 'faq' })).toBe('v1:-:u.u1:*:p.faq:*');
  });
});

describe('time buckets', () => {
  it('date and part of day, in UTC or a named time zone', () => {
    const utc = partOfDayBucket('UTC');
    expect(utc(Date.parse('2026-11-28T05:59:00Z'))).toBe('2026-11-28-night');
    expect(utc(Date.parse('2026-11-28T06:00:00Z'))).toBe('2026-11-28-morning');
    expect(utc(Date.parse('2026-11-28T12:00:00Z'))).toBe('2026-11-28-afternoon');
    expect(utc(Date.parse('2026-11-28T23:59:00Z'))).toBe('2026-11-28-evening');
    const tokyo = partOfDayBucket('Asia/Tokyo');
    expect(tokyo(Date.parse('2026-11-28T23:30:00Z'))).toBe('2026-11-29-morning');
  });
});
