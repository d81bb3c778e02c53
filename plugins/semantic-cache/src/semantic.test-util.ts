import {
  type CallOptions,
  type ChatCompletionRequest,
  type ChatStream,
  createGateway,
  type Gateway,
  type GatewayOptions,
  type GatewayResponse,
  type Plugin,
} from '@flowgate/core';
import type { MockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

export const ask = (content: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
});

/** Gateways over HTTP to the mock, closed by `closeAll()` in afterEach. */
export class Gateways {
  private readonly open: Gateway[] = [];
  constructor(private readonly mock: () => MockProvider) {}

  create(plugins: Plugin[], extra: Partial<GatewayOptions> = {}): Gateway {
    const gw = createGateway({
      providers: [openai({ apiKey: 'sk-test', baseURL: `${this.mock().url}/v1` })],
      plugins,
      ...extra,
    });
    this.open.push(gw);
    return gw;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((g) => g.close()));
  }
}

export async function readStream(stream: ChatStream): Promise<{ text: string; response: GatewayResponse }> {
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return { text, response: await stream.response };
}

export const streamCall = (gw: Gateway, req: ChatCompletionRequest, options?: CallOptions) =>
  readStream(gw.stream(req, options));

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

/** Sum of a counter's points per value of one attribute. */
export function counterBy(metrics: ResourceMetrics, name: string, attribute: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of metrics.scopeMetrics) {
    for (const m of s.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const p of m.dataPoints) {
        const k = String(p.attributes[attribute]);
        out[k] = (out[k] ?? 0) + (p.value as number);
      }
    }
  }
  return out;
}

/** The data points of one metric (value: a number, or a histogram's `{ count, sum, ... }`). */
export function points(metrics: ResourceMetrics, name: string): { value: unknown }[] {
  const out: { value: unknown }[] = [];
  for (const s of metrics.scopeMetrics) {
    for (const m of s.metrics) if (m.descriptor.name === name) for (const p of m.dataPoints) out.push(p);
  }
  return out;
}
