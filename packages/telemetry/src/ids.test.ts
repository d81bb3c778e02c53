import { describe, expect, it } from 'vitest';
import { BufferedIdGenerator } from './ids.js';

describe('BufferedIdGenerator', () => {
  it('hands out lowercase hex ids of 32 and 16 characters, all distinct, across many refills', () => {
    const ids = new BufferedIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const trace = ids.generateTraceId();
      const span = ids.generateSpanId();
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      seen.add(trace).add(span);
    }
    expect(seen.size).toBe(40_000);
  });

  it('skips ids of all zeros, which W3C Trace Context calls invalid', () => {
    // The first block is all zeros, the next all 0xab.
    let fills = 0;
    const ids = new BufferedIdGenerator((b) => {
      b.fill(fills++ === 0 ? 0 : 0xab);
    });
    expect(ids.generateSpanId()).toBe('ab'.repeat(8));
    expect(ids.generateTraceId()).toBe('ab'.repeat(16));
    expect(fills).toBe(2);
  });
});
