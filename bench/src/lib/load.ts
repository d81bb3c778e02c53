/** Load shapes and no-op telemetry shared by the benchmarks. */
import type { ChatCompletionRequest } from '@flowgate/core';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { progress } from './progress.js';

/** The request most benchmarks send: a short system prompt and question. */
export const BENCH_REQUEST: ChatCompletionRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
  max_tokens: 64,
};

/** Exporters that drop everything: the SDK does all its work, nothing leaves the process. */
export const noopSpanExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

/** A no-op span exporter that counts what it was handed: proof that a benchmark's spans were all exported. */
export function countingSpanExporter(): SpanExporter & { readonly exported: number } {
  let exported = 0;
  return {
    get exported() {
      return exported;
    },
    export: (spans, done) => {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
}
export const noopMetricExporter: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** Closed-loop load: `concurrency` workers call `fn` back to back for `ms`; returns calls per second. */
export async function runConcurrent(fn: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - start) / 1000);
}

/**
 * Sequential latency of several modes, sampled in interleaved blocks so that drift on a shared
 * machine hits every mode alike. Returns per mode the call durations in µs.
 */
export async function interleavedLatency(
  modes: readonly (() => Promise<unknown>)[],
  total: number,
  block: number,
  label: string,
): Promise<number[][]> {
  const lat: number[][] = modes.map(() => []);
  const p = progress(label);
  for (let done = 0; done < total; done += block) {
    for (let m = 0; m < modes.length; m++) {
      const fn = modes[m]!;
      for (let i = 0; i < block; i++) {
        const t0 = performance.now();
        await fn();
        lat[m]!.push((performance.now() - t0) * 1000);
      }
    }
    p.update(Math.min(total, done + block), total);
  }
  p.done();
  return lat;
}
