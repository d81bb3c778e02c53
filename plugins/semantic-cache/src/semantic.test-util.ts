import type { MockProvider } from '@flowgate/mock-provider';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

// The exact cache's test helpers serve here too: the same gateways over HTTP to the mock.
export { ask, counterBy, Gateways, readStream, streamCall } from '../../cache/src/cache.test-util.js';

/** Upstream chat requests the mock has answered. */
export const upstream = (mock: MockProvider) => mock.stats().byPath['/v1/chat/completions'] ?? 0;

/** A clock the test moves by hand (shared by the exact cache and the semantic cache). */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** The data points of one metric (value: a number, or a histogram's `{ count, sum, ... }`). */
export function points(metrics: ResourceMetrics, name: string): { value: unknown }[] {
  const out: { value: unknown }[] = [];
  for (const s of metrics.scopeMetrics) {
    for (const m of s.metrics) if (m.descriptor.name === name) for (const p of m.dataPoints) out.push(p);
  }
  return out;
}
