import { describe, expect, it } from 'vitest';
import { memoHash, TextMemo } from './text-memo.js';

describe('TextMemo', () => {
  it('confirms every hit against the stored text, so texts sharing a key cost a miss, never a wrong count', () => {
    // The same length and the same sampled characters (ends, and a spread over the middle): the same key.
    const a = `${'x'.repeat(30)}a${'x'.repeat(169)}`;
    const b = `${'x'.repeat(30)}b${'x'.repeat(169)}`;
    expect(memoHash(a)).toBe(memoHash(b));
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

  it('keys short texts by all their characters, and long ones by their length, ends and middle', () => {
    expect(memoHash('abc')).not.toBe(memoHash('abd'));
    const long = 'y'.repeat(500);
    const changedAt = (i: number) => `${long.slice(0, i)}z${long.slice(i + 1)}`;
    for (const i of [0, 11, 488, 499]) expect(memoHash(changedAt(i))).not.toBe(memoHash(long));
    const middle = Array.from({ length: 476 }, (_, k) => 12 + k).filter(
      (i) => memoHash(changedAt(i)) !== memoHash(long),
    );
    expect(middle.length).toBe(8);
    expect(memoHash(`${long}y`)).not.toBe(memoHash(long));
    // A fresh copy of a text (as JSON.parse makes) and a concatenation have the same key as the original.
    expect(memoHash(JSON.parse(JSON.stringify(long)) as string)).toBe(memoHash(long));
    expect(memoHash('y'.repeat(250) + 'y'.repeat(250))).toBe(memoHash(long));
    // Keys are small integers, which a Map hashes without boxing.
    expect(Number.isInteger(memoHash(long)) && memoHash(long) >= 0 && memoHash(long) < 2 ** 30).toBe(true);
  });

  it('keeps chains of alike texts short, the oldest of them out first, with exact counts', () => {
    // 20 texts with the same key: they differ only at a character the key does not sample.
    const alike = Array.from(
      { length: 20 },
      (_, i) => `${'x'.repeat(30)}${String.fromCharCode(97 + i)}${'x'.repeat(169)}`,
    );
    expect(new Set(alike.map(memoHash)).size).toBe(1);
    const memo = new TextMemo(100, 100_000);
    for (const [i, t] of alike.entries()) memo.set(t, i);
    expect(memo.size).toBe(8);
    for (const [i, t] of alike.entries()) expect(memo.get(t)).toBe(i >= 12 ? i : undefined);
  });

  it('keeps nothing with zero entries', () => {
    const memo = new TextMemo(0, 1_000);
    memo.set('a', 1);
    expect(memo.get('a')).toBeUndefined();
    expect(memo.size).toBe(0);
  });
});
