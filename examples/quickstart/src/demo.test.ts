import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('quickstart demo', () => {
  it('runs its workload on the mock providers with every plugin and prints a summary', async () => {
    const lines: string[] = [];
    const result = await runDemo({ log: (l) => lines.push(l), env: {}, calls: 24 });
    expect(result).toEqual({ calls: 24, errors: 0, usingMock: true });
    const out = lines.join('\n');
    expect(out).toMatch(/calls\s+24 \(0 errors\)/);
    expect(out).toMatch(/latency\s+p50 \d+\.\d ms\s+p95/);
    expect(out).toMatch(/first token\s+p50 \d+\.\d ms .*streamed calls: \d+/);
    expect(out).toMatch(/tokens\s+\d+ in, \d+ out/);
    expect(out).toMatch(/cache\s+hit rate \d+% \(\d+ hits, \d+ coalesced, \d+ misses\), \d+ upstream calls saved/);
    expect(out).toMatch(/semantic cache\s+\d+ hits, \d+ misses, \d+ refused by a guard/);
    expect(out).toMatch(/"How's the weather in Paris\?"\s+semantic hit \(similarity 0\.\d\d\)/);
    expect(out).toMatch(/"What's the weather in London\?"\s+miss/);
    expect(out).toMatch(/"Which foods are not safe for dogs\?"\s+guard_rejected \(negation\)/);
    expect(out).toMatch(/router\s+\d+ fallbacks/);
    expect(out).toMatch(/flaky-openai\/gpt-4o-mini\s+breaker (closed|open|half-open)/);
    expect(out).toMatch(/gpt-4o-mini\s+\d+ calls\s+\$\d+\.\d{6}/);
    expect(out).toMatch(/claude-haiku-4-5\s+\d+ calls\s+\$\d+\.\d{6}/);
    expect(out).toMatch(/budget \(tenant demo\) \$\d+\.\d{6} of \$1 today/);
    expect(out).toMatch(/pool warm-up: http:\/\/127\.0\.0\.1:\d+ 2\/2/);
    expect(out).toMatch(/open \d+ \(free \d+\), queued \d+, connects \d+/);
    expect(out).toMatch(
      /runtime\s+GC pause p99 \d+\.\d\d ms \(\d+ GCs\), heap [\d.]+ MB of \d+ MB, event-loop delay p99 [\d.]+ ms/,
    );
  });
});
