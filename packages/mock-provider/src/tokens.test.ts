import { describe, expect, it } from 'vitest';
import { argumentFragments } from './answer.js';
import { countMockTokens, countPromptTokens, splitWords } from './tokens.js';

describe('countMockTokens', () => {
  it('counts whitespace-separated words', () => {
    expect(countMockTokens('')).toBe(0);
    expect(countMockTokens('   \n\t ')).toBe(0);
    expect(countMockTokens('one')).toBe(1);
    expect(countMockTokens('  one two\n\nthree\tfour  ')).toBe(4);
    expect(countMockTokens('{"query":"hello world"}')).toBe(2);
    expect(countMockTokens('a\u00a0b\u3000c')).toBe(3);
  });

  it('agrees with a regex split on every input', () => {
    for (const text of ['x', ' a  b ', 'a\u2028b\rc\vd\fe', 'héllo wörld ✓ 👋 !']) {
      expect(countMockTokens(text)).toBe(text.split(/\s+/).filter(Boolean).length);
    }
  });
});

describe('countPromptTokens', () => {
  it('adds 4 per message and 4 for a system prompt', () => {
    expect(countPromptTokens([])).toBe(0);
    expect(countPromptTokens(['hello world'])).toBe(6);
    expect(countPromptTokens(['hello world', ''])).toBe(10);
    expect(countPromptTokens(['hello world'], 'be brief')).toBe(12);
    expect(countPromptTokens(['hello world'], '')).toBe(10);
  });
});

describe('splitWords', () => {
  it('gives one piece per word, with the whitespace that follows it, losing nothing', () => {
    const text = '  Mock answer\n to:  you ';
    const pieces = splitWords(text);
    expect(pieces).toEqual(['  Mock ', 'answer\n ', 'to:  ', 'you ']);
    expect(pieces.join('')).toBe(text);
    expect(pieces).toHaveLength(countMockTokens(text));
    expect(splitWords('   ')).toEqual([]);
  });
});

describe('argumentFragments', () => {
  it('splits a JSON string into 2-3 fragments that join back', () => {
    for (const json of ['{"query":""}', '{"query":"a much longer question with many words"}']) {
      const fragments = argumentFragments(json);
      expect(fragments.length).toBeGreaterThanOrEqual(2);
      expect(fragments.length).toBeLessThanOrEqual(3);
      expect(fragments.join('')).toBe(json);
    }
  });
});

describe('public surface', () => {
  it('exports the token rule, the default answer and embeddings from the index', async () => {
    const api = await import('./index.js');
    expect(api.countMockTokens('a b')).toBe(2);
    expect(api.MESSAGE_OVERHEAD_TOKENS).toBe(4);
    expect(api.mockAnswerText('What is up?')).toBe('Mock answer to: What is up?');
    expect(api.mockAnswerText('x', { text: (q) => `${q}!` })).toBe('x!');
    expect(api.mockEmbedding('x')).toHaveLength(api.DEFAULT_EMBEDDING_DIMENSIONS);
    expect(typeof api.startMockProvider).toBe('function');
  });
});
