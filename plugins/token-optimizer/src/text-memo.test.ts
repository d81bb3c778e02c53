import { describe, expect, it } from 'vitest';
import { memoKey, TextMemo } from './text-memo.js';

describe('TextMemo', () => {
  it('confirms every hit against the stored text, so texts sharing a key cost a miss, never a wrong count', () => {
    // Same first and last 24 characters: the same key.
    const a = `${'x'.repeat(30)}a${'x'.repeat(169)}`;
    const b = `${'x'.repeat(30)}b${'x'.repeat(169)}`;
    expect(memoKey(a)).toBe(memoKey(b));
    const memo = new TextMemo(10, 10_000);
    memo.set(a, 1);
    expect(memo.get(b)).toBeUndefined();
    memo.set(b, 2);
    expect(memo.get(a)).toBe(1);
    expect(memo.get(b)).toBe(2);
    // A fresh copy of the text (as JSON.parse makes) hits.
    expect(memo.get(JSON.parse(JSON.stringify(a)) as string)).toBe(1);
    expect(memo.size).toBe(2);
  });

  it('evicts the least recently used first, within entry and character bounds', () => {
    const memo = new TextMemo(3, 1_000);
    memo.set('one', 1);
    memo.set('two', 2);
    memo.set('three', 3);
    expect(memo.get('one')).toBe(1);
    memo.set('four', 4);
    expect(memo.get('two')).toBeUndefined();
    expect(memo.get('one')).toBe(1);
    expect(memo.size).toBe(3);
    // 990 more characters go over 1 000: the oldest ('three') leaves.
    memo.set('y'.repeat(990), 5);
    expect(memo.size).toBe(3);
    expect(memo.get('three')).toBeUndefined();
    expect(memo.get('y'.repeat(990))).toBe(5);
    memo.set('z'.repeat(2000), 6);
    expect(memo.get('z'.repeat(2000))).toBeUndefined();
    expect(memo.hits).toBeGreaterThan(0);
    expect(memo.misses).toBeGreaterThan(0);
  });

  it('keeps nothing with zero entries', () => {
    const memo = new TextMemo(0, 1_000);
    memo.set('a', 1);
    expect(memo.get('a')).toBeUndefined();
    expect(memo.size).toBe(0);
  });
});
