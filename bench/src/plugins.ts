/**
 * bench/plugins: what each default plugin of `flowgate serve` adds to a cache-miss call, in process.
 *
 * A gateway over a provider that answers at once (no socket, no undici), sent the server bench's
 * request with a different question each call (so the cache always misses), non-streamed. One gateway
 * per configuration: no plugins, each of profiler, token-optimizer, cache, router and pool alone, and
 * all five together (in the server's default order). Each plugin is built as `flowgate serve` builds
 * it for `plugins: [{ name }]`: its factory called with `{}`; the gateway gets the server's default
 * request timeout, so every call has a deadline as it does there. No OpenTelemetry SDK is registered
 * (the API's no-op meter and tracer), unless BENCH_METRICS=1 gives every gateway an SDK meter provider
 * (a periodic reader to a no-op exporter), and BENCH_METRICS=aggregated puts @flowgate/telemetry's
 * pre-aggregating meter in front of it, as the server has with Prometheus metrics on. The provider
 * answers as the mock provider does by default (its answer quotes the question), parsed from JSON.
 *
 * Blocks of calls run interleaved across configurations, so that drift on a shared machine hits all
 * alike; the time per call of each block is one sample. Printed: the median block's µs per call, and
 * the µs added over "no plugins".
 *
 * Knobs: BENCH_BLOCKS (default 30 measured blocks per configuration), BENCH_BLOCK_CALLS (default 1000),
 * BENCH_WARMUP_BLOCKS (default 15: enough misses to fill the memory store to its 10,000-entry bound),
 * BENCH_ONLY (comma list of configuration names), BENCH_METRICS=1 or aggregated.
 */

import {
  type ChatCompletion,
  type ChatCompletionRequest,
  createGateway,
  type Gateway,
  type Plugin,
  type Provider,
  responseReply,
} from '@flowgate/core';
import { mockAnswerText } from '@flowgate/mock-provider';
import { cache } from '@flowgate/plugin-cache';
import { pool } from '@flowgate/plugin-pool';
import { profiler } from '@flowgate/plugin-profiler';
import { router } from '@flowgate/plugin-router';
import { tokenOptimizer } from '@flowgate/plugin-token-optimizer';
import { AggregatingMeterProvider } from '@flowgate/telemetry';
import { type MeterProvider, ProxyTracerProvider } from '@opentelemetry/api';
import { PeriodicExportingMetricReader, MeterProvider as SdkMeterProvider } from '@opentelemetry/sdk-metrics';
import { noopMetricExporter } from './lib/load.js';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about = 'µs each default plugin (and all five) adds to an in-process cache-miss call';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 30);
const BLOCK_CALLS = Number(process.env.BENCH_BLOCK_CALLS ?? 1000);
const WARMUP_BLOCKS = Number(process.env.BENCH_WARMUP_BLOCKS ?? 15);
/** `1`: the OTel SDK's meter; `aggregated`: the SDK's behind `@flowgate/telemetry`'s pre-aggregating meter, as `flowgate serve` has it. */
const METRICS = process.env.BENCH_METRICS;
const WITH_METRICS = METRICS === '1' || METRICS === 'aggregated';
/** The server's default `limits.requestTimeoutMs`. */
const REQUEST_TIMEOUT_MS = 600_000;

/** `flowgate serve`'s default plugin list, in its order; each factory gets `{}` as from `plugins: [{ name }]`. */
const FACTORIES: readonly [string, () => Plugin][] = [
  ['profiler', () => profiler({})],
  ['token-optimizer', () => tokenOptimizer({})],
  ['cache', () => cache({})],
  ['router', () => router({})],
  ['pool', () => pool({})],
];

let answered = 0;
/**
 * The mock provider's default answer to `req`, parsed from JSON text as an HTTP provider parses its
 * upstream's body: a fresh object per call, the answer quoting the question (so unique per call too).
 */
function mockAnswer(req: ChatCompletionRequest): ChatCompletion {
  let lastUser = '';
  for (const m of req.messages) if (m.role === 'user' && typeof m.content === 'string') lastUser = m.content;
  const content = mockAnswerText(lastUser);
  const completion = content.split(' ').length;
  const body = JSON.stringify({
    id: `chatcmpl-mock-${++answered}`,
    object: 'chat.completion',
    created: 0,
    model: req.model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: {
      prompt_tokens: 24,
      completion_tokens: completion,
      total_tokens: 24 + completion,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
    system_fingerprint: null,
  });
  return JSON.parse(body) as ChatCompletion;
}

/** An OpenAI-shaped provider that answers at once: only the pipeline is measured. */
function instantProvider(): Provider {
  return {
    id: 'bench',
    system: 'openai',
    // An origin, as an HTTP provider has, so that the pool sets up a pool for it.
    origin: 'http://127.0.0.1:9',
    address: { host: '127.0.0.1', port: 9 },
    serves: () => true,
    send: (ctx) => Promise.resolve(responseReply(mockAnswer(ctx.request))),
  };
}

let question = 0;
/** The server bench's miss request: a question no call asked before. */
function missRequest(): ChatCompletionRequest {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: `What is the capital of France? [${question++}]` },
    ],
    max_tokens: 64,
  };
}

interface Mode {
  name: string;
  gateway: Gateway;
  perCallUs: number[];
}

export async function main(): Promise<void> {
  const tracerProvider = new ProxyTracerProvider();
  const meterProviders: SdkMeterProvider[] = [];
  const meterProvider = (): MeterProvider | undefined => {
    if (!WITH_METRICS) return undefined;
    const mp = new SdkMeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter: noopMetricExporter, exportIntervalMillis: 1000 })],
    });
    meterProviders.push(mp);
    return METRICS === 'aggregated' ? new AggregatingMeterProvider(mp) : mp;
  };
  const configs: [string, () => Plugin[]][] = [
    ['no plugins', () => []],
    ...FACTORIES.map(([name, make]): [string, () => Plugin[]] => [name, () => [make()]]),
    ['all five', () => FACTORIES.map(([, make]) => make())],
  ];
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const modes: Mode[] = configs
    .filter(([name]) => name === 'no plugins' || !only || only.includes(name))
    .map(([name, plugins]) => {
      const mp = meterProvider();
      return {
        name,
        perCallUs: [],
        gateway: createGateway({
          providers: [instantProvider()],
          plugins: plugins(),
          tracerProvider,
          defaultTimeoutMs: REQUEST_TIMEOUT_MS,
          ...(mp ? { meterProvider: mp } : {}),
        }),
      };
    });
  await Promise.all(modes.map((m) => m.gateway.ready()));

  const blocks = WARMUP_BLOCKS + BLOCKS;
  const bar = progress('plugins: in process');
  for (let b = 0; b < blocks; b++) {
    for (const m of modes) {
      const g = m.gateway;
      const t0 = performance.now();
      for (let i = 0; i < BLOCK_CALLS; i++) await g.complete(missRequest());
      if (b >= WARMUP_BLOCKS) m.perCallUs.push(((performance.now() - t0) * 1000) / BLOCK_CALLS);
    }
    bar.update(b + 1, blocks);
  }
  bar.done();

  const base = summarize(modes[0]!.perCallUs).p50;
  const rows = modes.map((m, i) => {
    const s = summarize(m.perCallUs);
    return [m.name, fmt(s.p50, 2), fmt(s.p90, 2), i === 0 ? '-' : fmt(s.p50 - base, 2)];
  });
  console.log(
    `\nbench/plugins: ${BLOCKS} x ${BLOCK_CALLS} sequential cache-miss calls per configuration, interleaved (after ${WARMUP_BLOCKS} blocks of warm-up)`,
  );
  console.log(
    `node ${process.version}, provider answering at once, ${WITH_METRICS ? `OTel SDK meter provider (no-op exporter)${METRICS === 'aggregated' ? ' behind the pre-aggregating meter' : ''}` : 'no OTel SDK (API no-op)'}, no traces`,
  );
  console.log('plugins built as `flowgate serve` builds them: each factory with {}\n');
  console.log(table(['configuration', 'us per call (median block)', 'p90 block', 'added us'], rows));

  await Promise.all(modes.map((m) => m.gateway.close()));
  await Promise.all(meterProviders.map((mp) => mp.shutdown()));
}
