/**
 * bench/overhead: what the gateway adds to a call.
 *
 * In one run, against one mock provider (in a child process), it measures
 *   raw      undici `request()` + JSON parse of the answer (the floor),
 *   raw, dispatch()   the same through `dispatch()` with a handler that collects the bytes: the transport
 *            flowgate's providers use for whole answers (no Readable per answer); the run also prints the
 *            ratios against this row,
 *   gateway  `gateway.complete()` with no plugins, no OpenTelemetry SDK registered,
 *   gw+sdk   the same with the SDK: every call sampled, the id generator and batch span processor (the
 *            SDK's defaults) as startTelemetry sets them up, to a no-op exporter that counts the spans it gets (the run
 *            prints whether any was dropped), metrics collected by a periodic reader to a no-op
 *            exporter, recorded through the SDK's own instruments,
 *   gw+sdk, pre-aggregated   the same SDK set up as @flowgate/telemetry sets it up: counters and
 *            histograms aggregated in process (AggregatingMeterProvider) and handed to the same
 *            reader at collection time (AggregatedMetricProducer).
 * Sequential latency is sampled in interleaved blocks so that drift hits every mode alike; throughput
 * is measured at concurrency 64 in interleaved rounds, with this process's CPU time per call beside it (the
 * mock runs in its own process): on a shared machine whose speed drifts, that ratio is the steadier one.
 * Targets (issue 2): gateway >= 90% of raw throughput; with the SDK (as flowgate's telemetry sets it
 * up) >= 75%, <= 20 us added at the median.
 */

import { createGateway } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { AggregatedMetricProducer, AggregatingMeterProvider, BufferedIdGenerator } from '@flowgate/telemetry';
import { context, metrics, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Agent, setGlobalDispatcher } from 'undici';
import { postJsonByDispatch } from './lib/dispatch-json.js';
import {
  BENCH_REQUEST,
  countingSpanExporter,
  interleavedLatency,
  noopMetricExporter,
  runConcurrent,
} from './lib/load.js';
import { startMockProcess } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, median, summarize, table } from './lib/stats.js';

export const about = 'raw undici vs gateway.complete, without and with the OpenTelemetry SDK';

const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 6000);
const BLOCK = 200;
const CONCURRENCY = 64;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500);

const request = BENCH_REQUEST;

export async function main(): Promise<void> {
  const mock = await startMockProcess();
  const agent = new Agent({ connections: CONCURRENCY * 2, keepAliveTimeout: 60_000 });
  setGlobalDispatcher(agent);
  const baseURL = `${mock.url}/v1`;
  const url = new URL(`${baseURL}/chat/completions`);

  const raw = async () => {
    const res = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      // A client serializes its request per call, as the gateway's provider does.
      body: JSON.stringify(request),
    });
    if (res.statusCode !== 200) throw new Error(`mock answered ${res.statusCode}`);
    await res.body.json();
  };

  // The same request through dispatch() with a collecting handler: the transport the providers use.
  const rawDispatch = async () => {
    const res = await postJsonByDispatch(agent, url, JSON.stringify(request));
    if (res.status !== 200) throw new Error(`mock answered ${res.status}`);
  };

  // A proxy provider with no SDK behind it: exactly what the API hands out when nothing is registered.
  // (The global one would start delegating to the SDK registered below.)
  const plain = createGateway({
    providers: [openai({ apiKey: 'bench', baseURL })],
    tracerProvider: new ProxyTracerProvider(),
    dispatcher: agent,
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // The batch span processor as startTelemetry sets it up: the SDK's defaults (batches of 512, a queue
  // of 2048). The exporter counts the spans it is handed, so a dropped span would show (see below).
  const spanExporter = countingSpanExporter();
  const tracerProvider = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    // The id generator startTelemetry gives the SDK.
    idGenerator: new BufferedIdGenerator(),
    spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter })],
  });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: noopMetricExporter, exportIntervalMillis: 1000 })],
  });
  // Registered globally as an application would.
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const withSdk = createGateway({ providers: [openai({ apiKey: 'bench', baseURL })], dispatcher: agent });
  // The same tracer; metrics pre-aggregated in process and collected by an identical reader.
  let aggregating: AggregatingMeterProvider | undefined;
  const aggregatedSdk = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: noopMetricExporter,
        exportIntervalMillis: 1000,
        metricProducers: [new AggregatedMetricProducer(() => aggregating)],
      }),
    ],
  });
  aggregating = new AggregatingMeterProvider(aggregatedSdk);
  const withAggregated = createGateway({
    providers: [openai({ apiKey: 'bench', baseURL })],
    dispatcher: agent,
    meterProvider: aggregating,
  });

  // Calls through the SDK, each of which must have exported two spans (the call and its attempt).
  let tracedCalls = 0;
  const traced = <T>(p: Promise<T>): Promise<T> => {
    tracedCalls++;
    return p;
  };
  const modes: [string, () => Promise<unknown>][] = [
    ['raw undici', raw],
    ['raw undici, dispatch()', rawDispatch],
    ['gateway', () => plain.complete(request)],
    ['gateway + OTel SDK', () => traced(withSdk.complete(request))],
    ['gateway + SDK, pre-aggregated', () => traced(withAggregated.complete(request))],
  ];

  // Warm-up: JIT, connections, the mock's own JIT. Throughput keeps climbing for a few seconds.
  for (let i = 0; i < 2; i++) for (const [, fn] of modes) await runConcurrent(fn, CONCURRENCY, WARMUP_MS);

  // 1. Sequential latency, interleaved blocks.
  const lat = await interleavedLatency(
    modes.map(([, fn]) => fn),
    LATENCY_CALLS,
    BLOCK,
    'latency (sequential)',
  );

  // 2. Throughput at concurrency 64, interleaved rounds.
  // Besides throughput, this process's CPU time per call (the mock runs in its own process): on a shared
  // machine whose speed drifts, the ratio of CPU per call is steadier than the ratio of throughputs.
  const rps: number[][] = modes.map(() => []);
  const cpuPerCall: number[][] = modes.map(() => []);
  const p2 = progress(`throughput (concurrency ${CONCURRENCY})`);
  for (let r = 0; r < ROUNDS; r++) {
    for (let m = 0; m < modes.length; m++) {
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const perSecond = await runConcurrent(modes[m]![1], CONCURRENCY, ROUND_MS);
      const used = process.cpuUsage(cpu);
      rps[m]!.push(perSecond);
      cpuPerCall[m]!.push((used.user + used.system) / ((perSecond * (performance.now() - wall)) / 1000));
    }
    p2.update(r + 1, ROUNDS);
  }
  p2.done();

  await tracerProvider.forceFlush();
  const spansMissing = 2 * tracedCalls - spanExporter.exported;

  const base = summarize(lat[0]!);
  const baseRps = median(rps[0]!);
  const baseCpu = median(cpuPerCall[0]!);
  const rows = modes.map(([name], m) => {
    const s = summarize(lat[m]!);
    const r = median(rps[m]!);
    const cpu = median(cpuPerCall[m]!);
    return [
      name,
      fmt(s.p50),
      fmt(s.p99),
      m === 0 ? '-' : fmt(s.p50 - base.p50),
      m === 0 ? '-' : fmt(s.p99 - base.p99),
      fmt(r, 0),
      `${fmt((r / baseRps) * 100)}%`,
      fmt(cpu),
      `${fmt((baseCpu / cpu) * 100)}%`,
    ];
  });
  console.log(
    `\nbench/overhead: ${LATENCY_CALLS} sequential calls per mode, ${ROUNDS} x ${ROUND_MS} ms at concurrency ${CONCURRENCY}`,
  );
  console.log(`node ${process.version}, mock provider in a child process, one undici Agent shared by all modes`);
  console.log(
    `spans: ${spanExporter.exported} exported for ${tracedCalls} calls through the SDK (${
      spansMissing === 0 ? 'none dropped' : `${spansMissing} dropped`
    }; batch span processor with the SDK's defaults, as startTelemetry sets it up)\n`,
  );
  console.log(
    table(
      [
        'mode',
        'p50 us',
        'p99 us',
        'added p50 us',
        'added p99 us',
        'req/s @64',
        'vs raw',
        'CPU us/call',
        'raw CPU / this',
      ],
      rows,
    ),
  );
  const at = modes.map((_, m) => ({ s: summarize(lat[m]!), r: median(rps[m]!), cpu: median(cpuPerCall[m]!) }));
  const [, dispatchRow, gwRow, sdkRow, aggRow] = at;
  console.log(
    '\ntargets (the SDK rows: pre-aggregated, as @flowgate/telemetry sets it up; SDK instruments in brackets):',
  );
  console.log(`  gateway throughput >= 90% of raw: ${fmt((gwRow!.r / baseRps) * 100)}%`);
  console.log(
    `  gateway + SDK throughput >= 75% of raw: ${fmt((aggRow!.r / baseRps) * 100)}% (${fmt((sdkRow!.r / baseRps) * 100)}%)`,
  );
  console.log(
    `  cross-check, raw's CPU per call over each: gateway ${fmt((baseCpu / gwRow!.cpu) * 100)}%, with the SDK ${fmt(
      (baseCpu / aggRow!.cpu) * 100,
    )}% (${fmt((baseCpu / sdkRow!.cpu) * 100)}%)`,
  );
  console.log(
    `  gateway + SDK added latency <= 20 us at the median: ${fmt(aggRow!.s.p50 - base.p50)} us (${fmt(sdkRow!.s.p50 - base.p50)} us)`,
  );
  // The providers read whole answers through dispatch(), so the same figures against that row too.
  const d = dispatchRow!;
  console.log(
    `against "raw undici, dispatch()" (the providers' transport): gateway ${fmt((gwRow!.r / d.r) * 100)}%, with the SDK ${fmt(
      (aggRow!.r / d.r) * 100,
    )}% (${fmt((sdkRow!.r / d.r) * 100)}%) of its throughput; added p50 ${fmt(gwRow!.s.p50 - d.s.p50)} us, with the SDK ${fmt(
      aggRow!.s.p50 - d.s.p50,
    )} us (${fmt(sdkRow!.s.p50 - d.s.p50)} us)`,
  );

  await plain.close();
  await withSdk.close();
  await withAggregated.close();
  await aggregatedSdk.shutdown();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  await agent.close();
  await mock.stop();
}
