/** Shared test set-up: the mock provider over HTTP, gateways on it, in-memory telemetry. */
import { createGateway, type Gateway, type Plugin } from '@flowgate/core';
import { type MockProvider, type MockProviderOptions, startMockProvider } from '@flowgate/mock-provider';
import { anthropic, openai } from '@flowgate/providers';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';

export interface Harness {
  mock: MockProvider;
  /** A gateway over the mock: claude-* via the Anthropic protocol, everything else via OpenAI. */
  gateway(plugins: Plugin[], withTelemetry?: ReturnType<typeof telemetry>): Gateway;
  close(): Promise<void>;
}

export async function startHarness(options: MockProviderOptions = {}): Promise<Harness> {
  const mock = await startMockProvider(options);
  const gateways: Gateway[] = [];
  return {
    mock,
    gateway(plugins, t) {
      const gw = createGateway({
        providers: [
          anthropic({ id: 'mock-anthropic', apiKey: 'test', baseURL: mock.url }),
          openai({ id: 'mock-openai', apiKey: 'test', baseURL: `${mock.url}/v1` }),
        ],
        plugins,
        ...(t ? { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider } : {}),
      });
      gateways.push(gw);
      return gw;
    },
    async close() {
      await Promise.all(gateways.splice(0).map((g) => g.close()));
      await mock.close();
    },
  };
}

export { telemetry };

/** Data points of a metric (sums and gauges), with their attributes. */
export function points(rm: ResourceMetrics, name: string): { value: number; attributes: Record<string, unknown> }[] {
  const out: { value: number; attributes: Record<string, unknown> }[] = [];
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const dp of metric.dataPoints) out.push({ value: dp.value as number, attributes: dp.attributes });
    }
  }
  return out;
}
