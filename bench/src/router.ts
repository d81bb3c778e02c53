/**
 * bench/router: what the router plugin costs, and what it buys.
 *
 * 1. Overhead: a gateway with no plugins vs the same with `router()` and every feature on (p2c strategy over
 *    two deployments, circuit breakers, retry budget, first-byte and stall timeouts, hedging armed but not
 *    firing); each call is planning plus one attempt. Target (issue 3): <= 10 µs added at the median.
 *    a. In process, against a provider that answers at once: the router's own CPU cost, free of network noise.
 *    b. Against one mock provider (child process), whole and streamed calls, with and without a deadline:
 *       sequential latency in interleaved blocks, added µs at p50/p99. Timeouts and hedging need an
 *       AbortSignal per attempt, which undici charges for; a call with a deadline pays for one already.
 * 2. Resilience. 3 mock providers in child processes: `healthy`, `flaky` (500 on 30% of calls) and `slow`
 *    (+50 ms). N calls per strategy at a fixed concurrency: success rate, latency p50/p99, where the calls
 *    went, and attempts per call, as a table. Without a router (the first provider only), for reference.
 *
 * Knobs: BENCH_INPROCESS_BLOCKS (default 50 blocks of 1000 calls), BENCH_LATENCY_CALLS (default 4000 per mode), BENCH_ROUTER_CALLS (default 10000 per strategy),
 * BENCH_ROUTER_CONCURRENCY (default 32), BENCH_SLOW_MS (default 50).
 */

import { type ChatCompletion, createGateway, type Gateway, type Provider, responseReply } from '@flowgate/core';
import { type RouterOptions, router, type StrategyName } from '@flowgate/plugin-router';
import { openai } from '@flowgate/providers';
import { ProxyTracerProvider } from '@opentelemetry/api';
import { Agent, setGlobalDispatcher } from 'undici';
import { BENCH_REQUEST, interleavedLatency } from './lib/load.js';
import { startMockProcess } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about =
  'router plugin: added latency per call (all features on), and success/latency per strategy under faults';

const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 4000);
const INPROCESS_BLOCKS = Number(process.env.BENCH_INPROCESS_BLOCKS ?? 50);
const WARMUP_BLOCKS = 20;
const BLOCK = 200;
const ROUTER_CALLS = Number(process.env.BENCH_ROUTER_CALLS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_ROUTER_CONCURRENCY ?? 32);
const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? 50);

const STRATEGIES: StrategyName[] = [
  'round-robin',
  'weighted-round-robin',
  'priority',
  'least-latency',
  'least-busy',
  'p2c-peak-ewma',
  'cost',
];

const TWO_DEPLOYMENTS = [
  { provider: 'a', model: 'gpt-4o-mini' },
  { provider: 'b', model: 'gpt-4o-mini' },
];

const request = BENCH_REQUEST;

export async function main(): Promise<void> {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 60_000 });
  setGlobalDispatcher(agent);
  try {
    await inProcess();
    await overhead();
    await resilience();
  } finally {
    await agent.close();
  }
}

// ---- 1a. the router's own cost, without the network -------------------------------------------

/** A provider that answers at once, so that only the pipeline is measured (no socket, no undici). */
function instantProvider(id: string): Provider {
  const response: ChatCompletion = {
    id: 'bench',
    object: 'chat.completion',
    created: 0,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 },
  };
  return { id, system: 'bench', serves: () => true, send: () => Promise.resolve(responseReply(response)) };
}

const ALL_FEATURES: Partial<RouterOptions> = {
  strategy: 'p2c-peak-ewma',
  breaker: { volumeThreshold: 20 },
  retry: { maxRetries: 2 },
  firstByteTimeoutMs: 10_000,
  stallTimeoutMs: 10_000,
  hedge: { delay: 5_000 },
};

async function inProcess(): Promise<void> {
  const noSdk = new ProxyTracerProvider();
  const plain = createGateway({ providers: [instantProvider('a')], tracerProvider: noSdk });
  const routed = createGateway({
    providers: [instantProvider('a'), instantProvider('b')],
    tracerProvider: noSdk,
    plugins: [router({ models: { 'gpt-4o-mini': TWO_DEPLOYMENTS }, ...ALL_FEATURES })],
  });
  const modes: [string, Gateway][] = [
    ['gateway', plain],
    ['gateway + router, all features', routed],
  ];
  const per: number[][] = modes.map(() => []);
  const blocks = WARMUP_BLOCKS + INPROCESS_BLOCKS;
  const bar = progress('router overhead: in process');
  // Blocks of 1000 calls, interleaved; the time per call of each block is one sample.
  for (let b = 0; b < blocks; b++) {
    for (let m = 0; m < modes.length; m++) {
      const g = modes[m]![1];
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) await g.complete(request);
      if (b >= WARMUP_BLOCKS) per[m]!.push(performance.now() - t0);
    }
    bar.update(b + 1, blocks);
  }
  bar.done();
  const base = summarize(per[0]!);
  const rows = modes.map(([name], m) => {
    const s = summarize(per[m]!);
    return [name, fmt(s.p50), m === 0 ? '-' : fmt(s.p50 - base.p50)];
  });
  console.log(
    `\nbench/router, part 1a: the router's own cost, ${INPROCESS_BLOCKS} x 1000 calls per mode (after ${WARMUP_BLOCKS} x 1000 to warm up)`,
  );
  console.log('to a provider that answers at once');
  console.log('(no network: planning, strategy, breaker, timers and scopes, hedge bookkeeping, one attempt)\n');
  console.log(table(['mode', 'us per call (median block)', 'added us'], rows));
  console.log(`\ntarget: <= 10 us added at the median: ${fmt(summarize(per[1]!).p50 - base.p50)} us`);
  await Promise.all([plain.close(), routed.close()]);
}

// ---- 1b. overhead over HTTP -------------------------------------------------------------------------------

async function overhead(): Promise<void> {
  const mock = await startMockProcess();
  const baseURL = `${mock.url}/v1`;
  const noSdk = new ProxyTracerProvider();
  const plain = createGateway({ providers: [openai({ baseURL, apiKey: 'bench' })], tracerProvider: noSdk });
  const routed = (options: Partial<RouterOptions>) =>
    createGateway({
      providers: [openai({ id: 'a', baseURL, apiKey: 'bench' }), openai({ id: 'b', baseURL, apiKey: 'bench' })],
      tracerProvider: noSdk,
      plugins: [
        router({
          models: { 'gpt-4o-mini': TWO_DEPLOYMENTS },
          strategy: 'p2c-peak-ewma',
          breaker: { volumeThreshold: 20 },
          retry: { maxRetries: 2 },
          ...options,
        }),
      ],
    });
  const all = routed(ALL_FEATURES);
  const noCancel = routed({});
  const deadline = { timeoutMs: 30_000 };
  const drain = async (g: Gateway) => {
    for await (const _ of g.stream(request)) {
      // read to the end
    }
  };
  // Pairs: [baseline, with the router].
  const modes: [string, () => Promise<unknown>][] = [
    ['whole: gateway', () => plain.complete(request)],
    ['whole: + router, all features', () => all.complete(request)],
    ['whole: gateway', () => plain.complete(request)],
    ['whole: + router, no timeouts/hedging', () => noCancel.complete(request)],
    ['whole, deadline: gateway', () => plain.complete(request, deadline)],
    ['whole, deadline: + router, all features', () => all.complete(request, deadline)],
    ['stream: gateway', () => drain(plain)],
    ['stream: + router, all features', () => drain(all)],
  ];
  const unique = modes.filter(([name], i) => modes.findIndex(([n]) => n === name) === i);
  const index = (name: string) => unique.findIndex(([n]) => n === name);

  // Warm-up: JIT, connections, the mock's own JIT.
  const warm = progress('router overhead: warm-up');
  for (let i = 0; i < 1000; i++) {
    for (const [, fn] of unique) await fn();
    warm.update(i + 1, 1000);
  }
  warm.done();

  const lat = await interleavedLatency(
    unique.map(([, fn]) => fn),
    LATENCY_CALLS,
    BLOCK,
    'router overhead: sequential latency',
  );

  const rows: (string | number)[][] = [];
  const added: Record<string, number> = {};
  for (let m = 0; m < modes.length; m += 2) {
    const base = summarize(lat[index(modes[m]![0])]!);
    const name = modes[m + 1]![0];
    const withRouter = summarize(lat[index(name)]!);
    if (m === 0 || modes[m]![0] !== modes[m - 2]?.[0])
      rows.push([modes[m]![0], fmt(base.p50), fmt(base.p99), '-', '-']);
    added[name] = withRouter.p50 - base.p50;
    rows.push([
      name,
      fmt(withRouter.p50),
      fmt(withRouter.p99),
      fmt(withRouter.p50 - base.p50),
      fmt(withRouter.p99 - base.p99),
    ]);
  }
  console.log(
    `\nbench/router, part 1b: overhead over HTTP, ${LATENCY_CALLS} sequential calls per mode, in interleaved blocks`,
  );
  console.log(`node ${process.version}, mock provider in a child process, no OpenTelemetry SDK.`);
  console.log('router: p2c over 2 deployments, breakers, retry budget; "all features" adds first-byte and stall');
  console.log('timeouts and hedging (armed at 5 s, never fires), which need an AbortSignal per attempt.\n');
  console.log(table(['mode', 'p50 us', 'p99 us', 'added p50 us', 'added p99 us'], rows));
  console.log('\ntarget: <= 10 us added at the median (planning plus one attempt)');
  for (const [name, us] of Object.entries(added)) console.log(`  ${name}: ${fmt(us)} us`);
  console.log(
    '  (undici charges each request that carries an AbortSignal: a call with a deadline already pays it, so\n' +
      '   the "deadline" pair isolates what the router adds; without a deadline the per-attempt signal is new.)',
  );

  await Promise.all([plain.close(), all.close(), noCancel.close()]);
  await mock.stop();
}

// ---- 2. resilience -----------------------------------------------------------------------------

async function resilience(): Promise<void> {
  const [healthy, flaky, slow] = await Promise.all([
    startMockProcess(['--seed', '1']),
    startMockProcess(['--fault', '500', '--fault-rate', '0.3', '--seed', '2']),
    startMockProcess(['--latency', String(SLOW_MS), '--seed', '3']),
  ]);
  const ids = ['healthy', 'flaky', 'slow'] as const;
  const urls = [healthy!.url, flaky!.url, slow!.url];
  const makeProviders = () => ids.map((id, i) => openai({ id, baseURL: `${urls[i]}/v1`, apiKey: 'bench' }));
  // Equal prices, weights and priorities: the strategies differ only in how they react to what they see.
  const deployments = ids.map((id) => ({
    provider: id,
    model: 'gpt-4o-mini',
    price: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  }));

  const rows: (string | number)[][] = [];
  const run = async (label: string, gateway: Gateway, routed: boolean) => {
    const latencies: number[] = [];
    const served: Record<string, number> = {};
    let ok = 0;
    let attempts = 0;
    let next = 0;
    const bar = progress(`router resilience: ${label}`);
    const worker = async () => {
      while (next < ROUTER_CALLS) {
        next++;
        const t0 = performance.now();
        try {
          const res = await gateway.complete(request);
          latencies.push(performance.now() - t0);
          ok++;
          attempts += res.flowgate.attempts.length;
          const p = res.flowgate.provider ?? '?';
          served[p] = (served[p] ?? 0) + 1;
        } catch {
          latencies.push(performance.now() - t0);
          attempts += 1;
        }
        bar.update(latencies.length, ROUTER_CALLS);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    bar.done();
    const s = summarize(latencies);
    const share = (id: string) => `${fmt(((served[id] ?? 0) / Math.max(ok, 1)) * 100, 0)}%`;
    rows.push([
      label,
      `${fmt((ok / ROUTER_CALLS) * 100, 2)}%`,
      fmt(s.p50, 2),
      fmt(s.p99, 2),
      share('healthy'),
      share('flaky'),
      share('slow'),
      routed ? fmt(attempts / ROUTER_CALLS, 2) : '1.00',
    ]);
  };

  // Reference: no router, every call to the flaky provider.
  const bare = createGateway({ providers: [makeProviders()[1]!], tracerProvider: new ProxyTracerProvider() });
  await run('no router (flaky only)', bare, false);
  await bare.close();

  for (const strategy of STRATEGIES) {
    const options: RouterOptions = {
      models: { 'gpt-4o-mini': deployments },
      strategy,
      firstByteTimeoutMs: 2_000,
    };
    const gateway = createGateway({
      providers: makeProviders(),
      plugins: [router(options)],
      tracerProvider: new ProxyTracerProvider(),
    });
    await run(strategy, gateway, true);
    await gateway.close();
  }

  console.log(
    `\nbench/router, part 2: ${ROUTER_CALLS} calls per strategy at concurrency ${CONCURRENCY} across 3 mock providers`,
  );
  console.log(`(healthy; flaky: 500 on 30% of calls; slow: +${SLOW_MS} ms), default retries, breakers and budget\n`);
  console.log(table(['strategy', 'success', 'p50 ms', 'p99 ms', 'healthy', 'flaky', 'slow', 'attempts/call'], rows));

  await Promise.all([healthy!.stop(), flaky!.stop(), slow!.stop()]);
}
