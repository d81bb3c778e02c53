import { getHeapStatistics } from 'node:v8';
import { createGateway, type Gateway } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { profiler, type RuntimeObservation, recommendFlags } from './index.js';
import { readHeapFlags } from './recommendations.js';

const MiB = 1024 * 1024;

/** Ten minutes of a process with a 4 GiB heap limit on 16 GiB, quiet GC, 200 MiB live. */
function observed(over: Partial<RuntimeObservation> = {}): RuntimeObservation {
  return {
    observedMs: 600_000,
    minorGcs: { count: 100, timeMs: 200, p99Ms: 1 },
    majorGcs: { count: 4, timeMs: 80, p99Ms: 25 },
    heapUsedBytes: 300 * MiB,
    heapLimitBytes: 4096 * MiB,
    liveHeapBytes: 200 * MiB,
    newSpaceBytes: 16 * MiB,
    memoryBytes: 16384 * MiB,
    flags: {},
    ...over,
  };
}

describe('recommendFlags', () => {
  it('throughput: a larger semi-space when scavenges are frequent, with the observed numbers as reason', () => {
    // 6000 scavenges in 10 min = 600/min, 3 s of pauses = 0.5% of the time.
    const r = recommendFlags(observed({ minorGcs: { count: 6000, timeMs: 3000, p99Ms: 1.5 } }), 'throughput');
    expect(r.flags.map((f) => [f.flag, f.value])).toEqual([['--max-semi-space-size', 64]]);
    expect(r.flags[0]!.reason).toContain('600 scavenges/min');
    expect(r.flags[0]!.reason).toContain('0.50% of wall time');
    expect(r.flags[0]!.reason).toContain('up to 3 × 48 MiB more memory');
    expect(r.nodeOptions).toBe('--max-semi-space-size=64');
    expect(r.goal).toMatch(/most work per CPU second/);
  });

  it('throughput: goes to 128 MiB from an explicit 64, and no further', () => {
    const busy = { minorGcs: { count: 6000, timeMs: 3000, p99Ms: 1.5 } };
    expect(recommendFlags(observed({ ...busy, flags: { maxSemiSpaceMb: 64 } }), 'throughput').nodeOptions).toBe(
      '--max-semi-space-size=128',
    );
    const maxed = recommendFlags(observed({ ...busy, flags: { maxSemiSpaceMb: 128 } }), 'throughput');
    expect(maxed.flags).toEqual([]);
    expect(maxed.notes.join(' ')).toMatch(/allocation rate itself/);
  });

  it('throughput: nothing to change on a quiet process, and says so', () => {
    const r = recommendFlags(observed(), 'throughput');
    expect(r.flags).toEqual([]);
    expect(r.nodeOptions).toBe('');
    expect(r.notes.join(' ')).toMatch(/big enough/);
  });

  it('throughput: room for the old generation when the live heap nears the limit, within memory', () => {
    const r = recommendFlags(observed({ liveHeapBytes: 2500 * MiB }), 'throughput');
    expect(r.flags.map((f) => [f.flag, f.value])).toEqual([['--max-old-space-size', 5056]]);
    expect(r.flags[0]!.reason).toMatch(/2500 MiB, 61\.0% of the 4096 MiB limit/);
    // With 4 GiB of memory there is no room: a note instead of a flag.
    const tight = recommendFlags(observed({ liveHeapBytes: 2500 * MiB, memoryBytes: 4096 * MiB }), 'throughput');
    expect(tight.flags).toEqual([]);
    expect(tight.notes.join(' ')).toMatch(/no room to raise it/);
  });

  it('latency: bounds long scavenges, spaces out frequent short ones, asks for headroom', () => {
    const longScavenges = { minorGcs: { count: 100, timeMs: 900, p99Ms: 8 } };
    const raised = recommendFlags(observed({ ...longScavenges, flags: { maxSemiSpaceMb: 64 } }), 'latency');
    expect(raised.nodeOptions).toBe('--max-semi-space-size=16');
    // At the default size the survivors, not the size, make the pauses long: advice, not a flag.
    const atDefault = recommendFlags(observed(longScavenges), 'latency');
    expect(atDefault.flags).toEqual([]);
    expect(atDefault.notes.join(' ')).toMatch(/many objects survive each scavenge/);
    const frequent = recommendFlags(observed({ minorGcs: { count: 1800, timeMs: 900, p99Ms: 0.8 } }), 'latency');
    expect(frequent.nodeOptions).toBe('--max-semi-space-size=32');
    // 1600 MiB live: 3x is 4800 MiB, above the 4096 MiB limit.
    const big = recommendFlags(observed({ liveHeapBytes: 1600 * MiB }), 'latency');
    expect(big.flags.map((f) => [f.flag, f.value])).toEqual([['--max-old-space-size', 4800]]);
    const slowMajor = recommendFlags(observed({ majorGcs: { count: 4, timeMs: 400, p99Ms: 120 } }), 'latency');
    expect(slowMajor.notes.join(' ')).toMatch(/Major GC pauses reach 120\.0 ms/);
  });

  it('memory: a small young generation, the old generation capped near the live heap, optimize-for-size', () => {
    const r = recommendFlags(observed(), 'memory');
    expect(r.nodeOptions).toBe('--max-semi-space-size=8 --max-old-space-size=320 --optimize-for-size');
    const already = recommendFlags(observed({ flags: { maxSemiSpaceMb: 4, optimizeForSize: true } }), 'memory');
    expect(already.nodeOptions).toBe('--max-old-space-size=320');
    expect(r.flags[0]!.reason).toMatch(/from 16 to 8 MiB saves up to 24 MiB/);
    // A 1 GiB heap limit already has a small default semi-space.
    const small = recommendFlags(observed({ heapLimitBytes: 1024 * MiB }), 'memory');
    expect(small.flags.map((f) => f.flag)).not.toContain('--max-semi-space-size');
    const unknown = recommendFlags(observed({ liveHeapBytes: undefined }), 'memory');
    expect(unknown.flags.map((f) => f.flag)).not.toContain('--max-old-space-size');
    expect(unknown.notes.join(' ')).toMatch(/No major GC seen yet/);
  });

  it('warns when there is too little to go on', () => {
    const r = recommendFlags(
      observed({ observedMs: 5000, minorGcs: { count: 2, timeMs: 1, p99Ms: 0.5 } }),
      'throughput',
    );
    expect(r.notes[0]).toMatch(/Observed for 5 s and 2 scavenges only/);
  });
});

describe('readHeapFlags', () => {
  it('reads the heap flags from argv and NODE_OPTIONS in either spelling', () => {
    expect(readHeapFlags(['--max-old-space-size=2048'], '--max_semi_space_size=32 --optimize-for-size')).toEqual({
      maxOldSpaceMb: 2048,
      maxSemiSpaceMb: 32,
      optimizeForSize: true,
    });
    expect(readHeapFlags([], undefined)).toEqual({});
  });
});

describe('plugin.recommendations()', () => {
  const gateways: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });

  it('derives them from this process, for the configured or the given preset', () => {
    const plugin = profiler({ preset: 'memory', leak: false });
    gateways.push(
      createGateway({ providers: [openai({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' })], plugins: [plugin] }),
    );
    const r = plugin.recommendations();
    expect(r.preset).toBe('memory');
    expect(r.observed.heapLimitBytes).toBe(getHeapStatistics().heap_size_limit);
    expect(r.observed.observedMs).toBeGreaterThan(0);
    expect(r.observed.memoryBytes).toBeGreaterThan(0);
    expect(r.flags.map((f) => f.flag)).toContain('--optimize-for-size');
    expect(plugin.recommendations('latency').preset).toBe('latency');
    expect(() => plugin.recommendations('fast' as 'latency')).toThrow(
      expect.objectContaining({ code: 'FLOWGATE_ERR_CONFIG' }),
    );
  });
});
