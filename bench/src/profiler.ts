/**
 * bench/profiler: what leaving the profiler on costs in gateway throughput.
 *
 * In one run, against one mock provider (in a child process), at a fixed concurrency, it measures
 *   off             `gateway.complete()` with no plugins,
 *   profiler        the same with `profiler()` at its defaults (GC observer, event-loop delay monitor,
 *                   leak watch, 10% of calls sampled for heap/GC attribution),
 *   profiler 100%   the same with every call sampled (`sampleRate: 1`).
 * Every mode has the OpenTelemetry metrics SDK with a periodic reader (1 s, no-op exporter), so the
 * profiler's observable callbacks really run. Rounds are interleaved (off, on, all, off, ...) and each
 * round builds a fresh gateway, so the profiler's process-wide monitors exist only in its own rounds.
 * Target (issue 7): profiler throughput >= 95% of off.
 */

import { createGateway } from '@flowgate/core';
import { formatSnapshot, type ProfilerPlugin, profiler } from '@flowgate/plugin-profiler';
import { openai } from '@flowgate/providers';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Agent, setGlobalDispatcher } from 'undici';
import { BENCH_REQUEST, noopMetricExporter, runConcurrent } from './lib/load.js';
import { startMockProcess } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, median, table } from './lib/stats.js';

export const about = 'gateway throughput with the GC/memory profiler on vs off (interleaved rounds)';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500);

interface Mode {
  name: string;
  /** A fresh profiler per round (undefined: no profiler). */
  plugin?: () => ProfilerPlugin;
}

export async function main(): Promise<void> {
  const mock = await startMockProcess();
  const agent = new Agent({ connections: CONCURRENCY * 2, keepAliveTimeout: 60_000 });
  setGlobalDispatcher(agent);
  const baseURL = `${mock.url}/v1`;
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: noopMetricExporter, exportIntervalMillis: 1000 })],
  });

  const modes: Mode[] = [
    { name: 'off' },
    { name: 'profiler (defaults, 10% sampled)', plugin: () => profiler() },
    { name: 'profiler (every call sampled)', plugin: () => profiler({ sampleRate: 1 }) },
  ];
  // What the profiler saw, read at the end of each of its rounds (the last round wins).
  const snapshots = new Map<string, string>();
  const reports = new Map<string, ReturnType<ProfilerPlugin['report']>>();

  /** One round of one mode on a fresh gateway; returns calls per second. */
  const round = async (mode: Mode, ms: number): Promise<number> => {
    const plugin = mode.plugin?.();
    const gateway = createGateway({
      providers: [openai({ apiKey: 'bench', baseURL })],
      plugins: plugin ? [plugin] : [],
      meterProvider,
    });
    try {
      const rps = await runConcurrent(() => gateway.complete(BENCH_REQUEST), CONCURRENCY, ms);
      if (plugin) {
        snapshots.set(mode.name, formatSnapshot(plugin.snapshot()));
        reports.set(mode.name, plugin.report());
      }
      return rps;
    } finally {
      await gateway.close();
    }
  };

  // Warm-up: JIT, connections, the mock's own JIT.
  for (const mode of modes) await round(mode, WARMUP_MS);

  const rps: number[][] = modes.map(() => []);
  const p = progress(`throughput (concurrency ${CONCURRENCY})`);
  for (let r = 0; r < ROUNDS; r++) {
    for (let m = 0; m < modes.length; m++) rps[m]!.push(await round(modes[m]!, ROUND_MS));
    p.update(r + 1, ROUNDS);
  }
  p.done();

  const base = median(rps[0]!);
  console.log(`\nbench/profiler: ${ROUNDS} x ${ROUND_MS} ms per mode at concurrency ${CONCURRENCY}, interleaved`);
  console.log(`node ${process.version}, mock provider in a child process, OTel metrics SDK in every mode\n`);
  console.log(
    table(
      ['mode', 'req/s (median)', 'min', 'max', 'vs off'],
      modes.map((mode, m) => [
        mode.name,
        fmt(median(rps[m]!), 0),
        fmt(Math.min(...rps[m]!), 0),
        fmt(Math.max(...rps[m]!), 0),
        m === 0 ? '-' : `${fmt((median(rps[m]!) / base) * 100)}%`,
      ]),
    ),
  );
  console.log('\nruntime as the profiler saw it (last round of each mode):');
  for (const [name, line] of snapshots) console.log(`  ${name}: ${line}`);
  const all = reports.get(modes[2]!.name)?.operations[0];
  if (all) {
    console.log(
      `  per call (every call sampled): heap delta avg ${fmt(all.heapDeltaBytes.avg / 1024)} KiB, ` +
        `${fmt((all.callsWithGc / all.calls) * 100)}% of calls saw a GC, GC ${fmt(all.gcTimeMs.avg, 3)} ms/call`,
    );
  }
  console.log('\ntargets:');
  console.log(`  profiler throughput >= 95% of off: ${fmt((median(rps[1]!) / base) * 100)}%`);

  await meterProvider.shutdown();
  await agent.close();
  await mock.stop();
}
