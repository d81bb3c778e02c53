// @vitest-environment node
/** profile(), cpuProfile(), heapSnapshot() and benchmark(): real files in a temp dir, read back. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocate, forceGc } from './gc.test-util.js';
import {
  benchmark,
  type CpuProfileData,
  cpuProfile,
  heapSnapshot,
  PROFILER_ERROR_CODE,
  profile,
  profiler,
  summarizeSamples,
  topFunctions,
} from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-profiler-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** CPU work that cannot be optimized away; the name is what the profile must show. */
function burnCpu(rounds: number): number {
  let x = 0;
  for (let i = 0; i < rounds; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

describe('profile()', () => {
  it('reports duration, heap delta and the GC that ran, and returns the result', async () => {
    let kept: unknown;
    const r = await profile('alloc', async () => {
      forceGc();
      kept = allocate(4);
      return 'done';
    });
    expect(r.name).toBe('alloc');
    expect(r.result).toBe('done');
    expect(r.gcCount).toBeGreaterThanOrEqual(1);
    expect(r.gcByType.major.count).toBeGreaterThanOrEqual(1);
    expect(r.gcTimeMs).toBeGreaterThan(0);
    expect(r.heapDeltaBytes).toBe(r.heapAfterBytes - r.heapBeforeBytes);
    expect(r.heapAfterBytes).toBeGreaterThan(0);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(kept).toBeDefined();
  });

  it('sees no GC when none ran, and then the heap delta is what fn kept', async () => {
    forceGc();
    let kept: unknown;
    // ~160 KB fits in the young generation emptied by the full GC above: no scavenge is due.
    const r = await profile('small', () => {
      kept = allocate(0.1);
    });
    expect(r.gcCount).toBe(0);
    expect(r.heapDeltaBytes).toBeGreaterThanOrEqual(100_000);
    expect(kept).toBeDefined();
  });

  it('passes an error from fn through', async () => {
    await expect(
      profile('fails', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });

  it('rejects a missing name or function with a ConfigError', async () => {
    await expect(profile('', () => 1)).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
    await expect(profile('x', 3 as unknown as () => number)).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
  });
});

describe('cpuProfile()', () => {
  it('writes a .cpuprofile DevTools can open and lists the hot function first', async () => {
    const r = await cpuProfile('burn', () => burnCpu(30_000_000), { dir, samplingIntervalUs: 100 });
    expect(r.path.startsWith(dir)).toBe(true);
    expect(r.path.endsWith('.cpuprofile')).toBe(true);
    expect(typeof r.result).toBe('number');

    // The shape DevTools loads: nodes with call frames, samples with matching time deltas.
    const data = JSON.parse(await readFile(r.path, 'utf8')) as CpuProfileData;
    expect(data.nodes.length).toBeGreaterThan(1);
    expect(data.nodes[0]!.callFrame.functionName).toBe('(root)');
    expect(data.samples!.length).toBe(r.sampleCount);
    expect(data.timeDeltas!.length).toBe(data.samples!.length);
    expect(data.endTime).toBeGreaterThan(data.startTime);
    const ids = new Set(data.nodes.map((n) => n.id));
    for (const s of data.samples!) expect(ids.has(s)).toBe(true);

    const top = r.topFunctions[0]!;
    expect(top.functionName).toBe('burnCpu');
    expect(top.url).toContain('profiling.test.ts');
    expect(top.selfMs).toBeGreaterThan(0);
    expect(top.totalMs).toBeGreaterThanOrEqual(top.selfMs);
    // Self times are sorted and add up to no more than the profile.
    const selves = r.topFunctions.map((f) => f.selfMs);
    expect([...selves].sort((a, b) => b - a)).toEqual(selves);
    expect(r.topFunctions.reduce((a, f) => a + f.selfPercent, 0)).toBeLessThanOrEqual(100.0001);
  });

  it('profiles the whole process for a duration', async () => {
    const r = await cpuProfile('idle', 20, { dir, top: 3 });
    expect(r.result).toBeUndefined();
    expect(r.topFunctions.length).toBeLessThanOrEqual(3);
    const data = JSON.parse(await readFile(r.path, 'utf8')) as CpuProfileData;
    expect(Array.isArray(data.nodes)).toBe(true);
    expect(data.endTime - data.startTime).toBeGreaterThan(0);
  });

  it('passes an error from fn through and writes nothing', async () => {
    const own = await mkdtemp(join(dir, 'err-'));
    await expect(
      cpuProfile(
        'fails',
        () => {
          throw new Error('boom');
        },
        { dir: own },
      ),
    ).rejects.toThrow('boom');
    expect(await readdir(own)).toEqual([]);
    // The profiler was stopped: a new profile can start.
    await expect(cpuProfile('after', () => 1, { dir: own })).resolves.toMatchObject({ result: 1 });
  });

  it('rejects bad arguments with a ConfigError', async () => {
    await expect(cpuProfile('x', -1, { dir })).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
    await expect(cpuProfile('x', undefined as unknown as number, { dir })).rejects.toMatchObject({
      code: 'FLOWGATE_ERR_CONFIG',
    });
    await expect(cpuProfile('x', 1, { dir, samplingIntervalUs: 0 })).rejects.toMatchObject({
      code: 'FLOWGATE_ERR_CONFIG',
    });
  });
});

describe('topFunctions()', () => {
  const frame = (functionName: string, lineNumber = 0) => ({
    functionName,
    url: 'file:///a.js',
    lineNumber,
    columnNumber: 0,
  });
  it('charges each sample until the next one and counts recursion once in totals', () => {
    // root -> a -> a (recursive) -> b ; root -> c
    const data: CpuProfileData = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 5] },
        { id: 2, callFrame: frame('a', 1), children: [3] },
        { id: 3, callFrame: frame('a', 1), children: [4] },
        { id: 4, callFrame: frame('b', 9) },
        { id: 5, callFrame: frame('') },
      ],
      startTime: 0,
      endTime: 90_000,
      samples: [2, 3, 4, 4, 5],
      // at 0, 10 ms, 20 ms, 50 ms, 60 ms; the last lasts until 90 ms
      timeDeltas: [0, 10_000, 10_000, 30_000, 10_000],
    };
    const top = topFunctions(data);
    expect(top.map((f) => [f.functionName, f.selfMs, f.totalMs])).toEqual([
      ['b', 40, 40],
      ['(anonymous)', 30, 30],
      ['a', 20, 60],
    ]);
    expect(top[0]).toMatchObject({ lineNumber: 10, columnNumber: 1 });
    expect(top[0]!.selfPercent).toBeCloseTo((40 / 90) * 100, 9);
    expect(top[2]!.totalPercent).toBeCloseTo((60 / 90) * 100, 9);
    expect(topFunctions(data, 1)).toHaveLength(1);
  });
});

describe('heapSnapshot()', () => {
  it('writes a .heapsnapshot file in the V8 format and returns its path', async () => {
    const path = await heapSnapshot({ dir, name: 'test' });
    expect(dirname(path)).toBe(dir);
    expect(path).toMatch(/test-.*\.heapsnapshot$/);
    const snap = JSON.parse(await readFile(path, 'utf8')) as {
      snapshot: { meta: { node_fields: string[] }; node_count: number };
      nodes: number[];
      strings: string[];
    };
    expect(snap.snapshot.meta.node_fields).toContain('name');
    expect(snap.snapshot.node_count).toBeGreaterThan(0);
    expect(snap.nodes.length).toBe(snap.snapshot.node_count * snap.snapshot.meta.node_fields.length);
    expect(snap.strings.length).toBeGreaterThan(0);
  });
});

describe('benchmark()', () => {
  it('runs warmup plus iterations and reports ordered statistics', async () => {
    let calls = 0;
    const r = await benchmark(
      'work',
      async () => {
        calls++;
        burnCpu(1000 + (calls % 7) * 1000);
      },
      { iterations: 50, warmup: 5 },
    );
    expect(calls).toBe(55);
    expect(r).toMatchObject({ name: 'work', iterations: 50, warmup: 5 });
    expect(r.minMs).toBeLessThanOrEqual(r.p50Ms);
    expect(r.p50Ms).toBeLessThanOrEqual(r.p90Ms);
    expect(r.p90Ms).toBeLessThanOrEqual(r.p95Ms);
    expect(r.p95Ms).toBeLessThanOrEqual(r.p99Ms);
    expect(r.p99Ms).toBeLessThanOrEqual(r.maxMs);
    expect(r.avgMs).toBeGreaterThanOrEqual(r.minMs);
    expect(r.avgMs).toBeLessThanOrEqual(r.maxMs);
    expect(r.stddevMs).toBeGreaterThanOrEqual(0);
    expect(r.opsPerSecond).toBeCloseTo(50_000 / r.totalMs, 6);
    expect(r.gcCount).toBeGreaterThanOrEqual(0);
  });

  it('rejects bad options with a ConfigError', async () => {
    await expect(benchmark('x', () => 1, { iterations: 0 })).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
    await expect(benchmark('x', () => 1, { warmup: 1.5 })).rejects.toMatchObject({ code: 'FLOWGATE_ERR_CONFIG' });
  });

  it('summarizes samples with nearest-rank percentiles and the sample standard deviation', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(summarizeSamples(samples)).toEqual({
      count: 100,
      avg: 50.5,
      min: 1,
      max: 100,
      stddev: Math.sqrt(samples.reduce((a, x) => a + (x - 50.5) ** 2, 0) / 99),
      p50: 50,
      p90: 90,
      p95: 95,
      p99: 99,
    });
    expect(summarizeSamples([7])).toMatchObject({ count: 1, p50: 7, p99: 7, stddev: 0 });
  });
});

describe('through the plugin object', () => {
  it('writes into the configured outputDir and needs no gateway', async () => {
    const own = await mkdtemp(join(dir, 'plugin-'));
    const p = profiler({ outputDir: own, leak: false });
    const cpu = await p.cpuProfile('p', () => burnCpu(100_000));
    const heap = await p.heapSnapshot();
    expect(dirname(cpu.path)).toBe(own);
    expect(dirname(heap)).toBe(own);
    expect((await p.profile('p', () => 2)).result).toBe(2);
    expect((await p.benchmark('b', () => 2, { iterations: 3, warmup: 0 })).iterations).toBe(3);
    expect((await readdir(own)).length).toBe(2);
  });

  it('says the runtime readings need the plugin installed', () => {
    const p = profiler({ leak: false });
    expect(() => p.snapshot()).toThrow(expect.objectContaining({ code: PROFILER_ERROR_CODE }));
    expect(() => p.report()).toThrow(expect.objectContaining({ code: PROFILER_ERROR_CODE }));
  });
});
