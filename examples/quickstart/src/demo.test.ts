import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('quickstart demo', () => {
  it('runs its workload on the mock provider and prints a summary', async () => {
    const lines: string[] = [];
    const result = await runDemo({ log: (l) => lines.push(l), env: {}, calls: 8 });
    expect(result).toEqual({ calls: 8, errors: 0, usingMock: true });
    const out = lines.join('\n');
    expect(out).toMatch(/calls\s+8 \(0 errors\)/);
    expect(out).toMatch(/latency\s+p50 \d+\.\d ms\s+p95/);
    expect(out).toMatch(/first token\s+p50 \d+\.\d ms .*streamed calls: 4/);
    expect(out).toMatch(/tokens\s+\d+ in, \d+ out/);
    expect(out).toContain('mock-openai');
    expect(out).toContain('mock-anthropic');
  });
});
