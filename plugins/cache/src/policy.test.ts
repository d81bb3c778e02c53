import type { CallOptions, ChatCompletionRequest, ChatMessage } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { normalizeText, replaceDates, resolveNormalize } from './normalize.js';
import { type CacheOptions, resolveOptions } from './options.js';
import { classify, Policy } from './policy.js';
import { defaultRules } from './rules.js';
import { mergeRules, TextMemo } from './text-memo.js';

function decider(options: CacheOptions = {}) {
  const policy = new Policy(resolveOptions(options), new TextMemo());
  return (messages: ChatMessage[] | string, extra: Partial<ChatCompletionRequest> = {}, call: CallOptions = {}) =>
    policy.decide({
      request: {
        model: 'm',
        messages: typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages,
        ...extra,
      },
      metadata: call.metadata ?? {},
      options: call,
    });
}

describe('smart policy', () => {
  const decide = decider();
  const reason = (m: ChatMessage[] | string, extra?: Partial<ChatCompletionRequest>) => decide(m, extra).reason;

  it('personal information anywhere in the conversation', () => {
    for (const text of [
      'write to bob.smith+news@mail.example.org',
      'my number is (415) 555-0134',
      'ring 06 12 34 56 78',
      'card 5500-0000-0000-0004 was charged twice',
      'my SSN is 123-45-6789',
      'IBAN FR76 3000 6000 0112 3456 7890 189',
      'log in from 192.168.1.20 fails',
      'Where is my order?',
      'My name is Ada and I like maths',
    ]) {
      expect(reason(text), text).toBe('personal-info');
    }
    expect(
      reason([
        { role: 'system', content: 'The customer is ada@example.com' },
        { role: 'user', content: 'Hi' },
      ]),
    ).toBe('personal-info');
    expect(reason([{ role: 'tool', tool_call_id: 'x', content: '{"email":"ada@example.com"}' }])).toBe('personal-info');
    for (const text of [
      'What is 2 + 2?',
      'Explain HTTP/2 in 3 sentences',
      'Who won the 1998 World Cup?',
      'Summarize the accounts chapter',
    ]) {
      expect(reason(text), text).toBeUndefined();
    }
  });

  it('time references in user messages (not the system prompt)', () => {
    for (const text of [
      'What is the weather now?',
      'news today',
      'what is on tonight',
      'latest iPhone',
      'current price of gold',
      'what are you doing this weekend',
      'What day is it?',
      'Is the shop open on Sunday?',
      'What happened on 2026-11-28?',
      'Meeting on 11/28',
      'Events on Nov 28th',
      'on the 3rd of March',
    ]) {
      expect(reason(text), text).toBe('time-reference');
    }
    expect(
      reason([
        { role: 'system', content: 'Today is 2026-11-28.' },
        { role: 'user', content: 'What is DNS?' },
      ]),
    ).toBeUndefined();
    for (const text of [
      'Who was president in 1990?',
      'What is the current in a 9V circuit with 3 ohms'.replace('current', 'amperage'),
    ]) {
      expect(reason(text), text).toBeUndefined();
    }
  });

  it('live-data tools, offered or already called, in snake or camel case', () => {
    const tools = (...names: string[]) => ({
      tools: names.map((name) => ({ type: 'function' as const, function: { name } })),
    });
    for (const name of [
      'get_current_weather',
      'getCurrentTime',
      'search_docs',
      'fetch_url',
      'stock_quote',
      'price_lookup',
      'get_weather',
      'refresh_now',
      'news_headlines',
    ]) {
      expect(reason('Paris?', tools(name)), name).toBe('live-tool');
    }
    for (const name of ['calculator', 'format_address', 'translate_text', 'update_record']) {
      expect(reason('Paris?', tools(name)), name).toBeUndefined();
    }
    expect(
      reason([
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'getForecast', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: 'sunny' },
      ]),
    ).toBe('live-tool');
    const list = [{ type: 'function' as const, function: { name: 'calculator' } }];
    expect(reason('x', { tools: list })).toBeUndefined();
    list.push({ type: 'function', function: { name: 'search_web' } });
    expect(reason('x', { tools: list })).toBe('live-tool');
  });

  it('temperature: explicit > 0 skipped unless cacheNonDeterministic; 0 and absent cached', () => {
    expect(reason('What is DNS?', { temperature: 0.2 })).toBe('non-deterministic');
    expect(reason('What is DNS?', { temperature: 0 })).toBeUndefined();
    expect(reason('What is DNS?')).toBeUndefined();
    expect(decider({ cacheNonDeterministic: true })('What is DNS?', { temperature: 1 }).cache).toBe(true);
  });

  it('personalized: by call option, by tag, or by a custom predicate', () => {
    expect(decide('Hi', {}, { metadata: { user: 'u' }, cache: { personalized: true } }).reason).toBe('personalized');
    expect(decide('Hi', {}, { metadata: { user: 'u', tags: { personalized: 'true' } } }).reason).toBe('personalized');
    expect(decide('Hi', {}, { cache: { personalized: true } }).reason).toBe('personalized-without-user');
    const custom = decider({ isPersonalized: (c) => c.metadata.tags?.app === 'coach', cachePersonalized: true });
    const d = custom('Hi', {}, { metadata: { user: 'u', tags: { app: 'coach' } } });
    expect(d).toMatchObject({ cache: true, personalized: true });
    expect(
      decider({ mode: 'always' })('Hi', {}, { metadata: { user: 'u' }, cache: { personalized: true } }),
    ).toMatchObject({
      cache: true,
      personalized: true,
    });
  });

  it('rules can be replaced or switched off, and kinds and TTLs customized', () => {
    const lax = decider({ rules: { personalInfo: false, timeReferences: [/\bsoon\b/i], liveTools: false } });
    expect(lax('mail ada@example.com').cache).toBe(true);
    expect(lax('today?').cache).toBe(true);
    expect(lax('soon?').reason).toBe('time-reference');
    expect(lax('x', { tools: [{ type: 'function', function: { name: 'search' } }] }).cache).toBe(true);
    const extended = decider({ rules: { personalInfo: [...defaultRules.personalInfo, /\bpatient id\b/gi] } });
    expect(extended('patient id 77').reason).toBe('personal-info');
    expect(extended('patient id 77').reason).toBe('personal-info'); // the g flag was dropped: no lastIndex drift
    const kinds = decider({
      rules: { kinds: [{ kind: 'legal', pattern: /\bcontract\b/ }] },
      ttlByKind: { legal: 1234 },
    });
    expect(kinds('Review this contract')).toMatchObject({ kind: 'legal', ttlMs: 1234 });
    expect(kinds('What is DNS?')).toMatchObject({ kind: 'default', ttlMs: 4 * 3_600_000 });
    expect(decider({ ttlMs: 99 })('What is DNS?').ttlMs).toBe(99);
    expect(decide('What is DNS?', {}, { cache: { ttlMs: 5 } }).ttlMs).toBe(5);
  });

  it('classifies kinds on the last user message', () => {
    expect(classify("What's the stock price of ACME?", defaultRules.kinds)).toBe('current');
    expect(classify('My printer is not working', defaultRules.kinds)).toBe('support');
    expect(classify('How to bake bread', defaultRules.kinds)).toBe('factual');
    expect(classify('Define idempotent', defaultRules.kinds)).toBe('factual');
    expect(classify('Write a limerick', defaultRules.kinds)).toBe('default');
  });
});

describe('normalization', () => {
  const norm = resolveNormalize(true, true)!;
  it('case, whitespace, trailing punctuation, quotes, contractions', () => {
    expect(normalizeText('  What’s   the WEATHER\tin Paris ?!', 'user', norm)).toBe('what is the weather in paris');
    expect(normalizeText("It's fine, isn't it?", 'user', norm)).toBe('it is fine, is not it');
  });
  it('dates and times to placeholders in system prompts only (by default)', () => {
    expect(normalizeText('Today is Saturday, November 28, 2026, 10:31 am.', 'system', norm)).toBe(
      'today is <weekday>, <date>, <time>',
    );
    expect(normalizeText('On 2026-11-28?', 'user', norm)).toBe('on 2026-11-28');
    expect(normalizeText('On 2026-11-28?', 'user', { ...norm, dates: 'all' })).toBe('on <date>');
    expect(replaceDates('at 2026-11-28T10:31:00Z and 28/11/2026')).toBe('at <date> and <date>');
  });
  it('never touches assistant or tool text', () => {
    expect(normalizeText('Paris IS Nice!', 'assistant', norm)).toBe('Paris IS Nice!');
    expect(normalizeText('{"City":"Paris"}', 'tool', norm)).toBe('{"City":"Paris"}');
  });
});

describe('text memo and rule merging', () => {
  it('remembers verdicts per text within its bounds', () => {
    const memo = new TextMemo(2, 100, 20);
    const a = memo.facts('hello', 'user');
    a.personal = true;
    expect(memo.facts('hello', 'user').personal).toBe(true);
    expect(memo.facts('hello', 'system').personal).toBeUndefined(); // another role class
    memo.facts('two', 'user');
    memo.facts('three', 'user'); // evicts the oldest ("hello")
    expect(memo.facts('hello', 'user').personal).toBeUndefined();
    const long = memo.facts('x'.repeat(21), 'user');
    long.personal = true;
    expect(memo.facts('x'.repeat(21), 'user').personal).toBeUndefined(); // too long to remember
    const small = new TextMemo(100, 30, 20);
    small.facts('a'.repeat(10), 'user').kind = 'k';
    small.facts('b'.repeat(10), 'user'); // 40 chars counted > 30: the first goes
    expect(small.facts('a'.repeat(10), 'user').kind).toBeUndefined();
  });

  it("remembers a request's newest message from its second sighting", () => {
    const memo = new TextMemo(2, 100, 20);
    let n = 0;
    // Eight new questions: more than the newest messages met once that are kept for their call.
    const newQuestions = () => {
      for (let i = 0; i < 8; i++) memo.facts(`new ${n++}`, 'user', true);
    };
    const once = memo.facts('hello', 'user', true);
    once.personal = true;
    expect(memo.facts('hello', 'user', true)).toBe(once); // the same call looks it up again
    expect(memo.facts('hello', 'system', true).personal).toBeUndefined(); // another role class
    newQuestions();
    const again = memo.facts('hello', 'user', true);
    expect(again).not.toBe(once); // met once: its facts were not kept
    again.personal = true;
    newQuestions();
    expect(memo.facts('hello', 'user', true).personal).toBe(true); // met twice: memoized

    // Asked again while its facts are still kept (a third lookup): memoized then.
    const asked = memo.facts('asked twice', 'user', true);
    expect(memo.facts('asked twice', 'user', true)).toBe(asked);
    expect(memo.facts('asked twice', 'user', true)).toBe(asked);
    newQuestions();
    expect(memo.facts('asked twice', 'user', true)).toBe(asked);

    // Met as the newest message, then as an older one (the conversation's next turn): memoized then.
    const question = memo.facts('question', 'user', true);
    expect(memo.facts('question', 'user')).toBe(question);
    newQuestions();
    expect(memo.facts('question', 'user', true)).toBe(question);
    // Bounds as for any memoized text: "question" evicted "hello", the oldest of the two kept.
    expect(memo.facts('hello', 'user').personal).toBeUndefined();
  });

  it('keeps a long newest message apart from another of the same length', () => {
    const memo = new TextMemo();
    const base = 'y'.repeat(5000);
    const a = memo.facts(`${base}a`, 'user', true);
    a.kind = 'a';
    expect(memo.facts(`${base}b`, 'user', true).kind).toBeUndefined();
    expect(memo.facts(`${base}a`, 'user', true).kind).toBe('a');
  });

  it('merges rules by flags without changing what they match', () => {
    const rules = [/cat/, /DOG/i, /b(i)rd\1/, /fish/i, /(?<x>eel)/];
    const merged = mergeRules(rules);
    expect(merged).toHaveLength(4); // /cat/, /(?:DOG)|(?:fish)/i, and the two with groups alone
    for (const text of ['a cat', 'a dog', 'biirdi', 'FISH', 'an eel', 'nothing', 'bird', 'CAT']) {
      expect(
        merged.some((r) => r.test(text)),
        text,
      ).toBe(rules.some((r) => r.test(text)));
    }
  });
});
