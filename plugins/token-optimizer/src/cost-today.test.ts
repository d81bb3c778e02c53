import { describe, expect, it } from 'vitest';
import { CostToday } from './cost-today.js';

describe('CostToday', () => {
  it('sums per model within a UTC day and starts over at midnight UTC', () => {
    let now = Date.parse('2026-11-28T23:59:59.000Z');
    const today = new CostToday(() => now);
    today.add('a', 0.5);
    today.add('a', 0.25);
    today.add('b', 1);
    expect(today.snapshot()).toEqual({ day: '2026-11-28', usd: 1.75, byModel: { a: 0.75, b: 1 } });
    now = Date.parse('2026-11-29T00:00:00.000Z');
    today.add('b', 2);
    expect(today.snapshot()).toEqual({ day: '2026-11-29', usd: 2, byModel: { b: 2 } });
    now = Date.parse('2026-11-29T23:59:59.999Z');
    expect(today.snapshot().usd).toBe(2);
  });

  it('starts over when the clock goes back to an earlier day', () => {
    let now = Date.parse('2026-11-29T10:00:00.000Z');
    const today = new CostToday(() => now);
    today.add('a', 1);
    now = Date.parse('2026-11-28T10:00:00.000Z');
    expect(today.snapshot()).toEqual({ day: '2026-11-28', usd: 0, byModel: {} });
  });
});
