import {
  type CallOptions,
  type ChatCompletionChunk,
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

/** Gateways made by a test, closed by `closeAll()` in afterEach. */
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

export interface ReadStream {
  chunks: ChatCompletionChunk[];
  text: string;
  response: GatewayResponse;
}

export async function readStream(stream: ChatStream): Promise<ReadStream> {
  const chunks: ChatCompletionChunk[] = [];
  let text = '';
  for await (const c of stream) {
    chunks.push(c);
    text += c.choices[0]?.delta.content ?? '';
  }
  return { chunks, text, response: await stream.response };
}

export const streamCall = (gw: Gateway, req: ChatCompletionRequest, options?: CallOptions) =>
  readStream(gw.stream(req, options));

/** The shape of a chunk: its own fields and its delta's fields (values aside). */
export function chunkShape(c: ChatCompletionChunk): string {
  const top = Object.keys(c).sort().join(',');
  const choice = c.choices[0];
  if (!choice) return `${top}|no-choice|usage:${c.usage ? Object.keys(c.usage).sort().join(',') : '-'}`;
  const delta = Object.keys(choice.delta).sort().join(',');
  return `${top}|${Object.keys(choice).sort().join(',')}|delta:${delta}|finish:${choice.finish_reason === null ? 'null' : 'set'}`;
}

/** Sum of a counter's data points per value of one attribute. */
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

export function metricNames(metrics: ResourceMetrics): string[] {
  return metrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
}
