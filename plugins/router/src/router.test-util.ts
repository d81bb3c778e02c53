import { type ChatCompletionRequest, createGateway, type Gateway, type GatewayOptions } from '@flowgate/core';
import { type MockProvider, type ModelBehavior, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { type RouterOptions, type RouterPlugin, router } from './index.js';

export { telemetry };

export const ask = (model: string, text = 'hello there router'): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: text }],
});

export interface Rig {
  mock: MockProvider;
  gateway: Gateway;
  plugin: RouterPlugin;
  /** Requests the mock received for `model`. */
  requests(model: string): number;
  close(): Promise<void>;
}

/**
 * A gateway over one mock provider server, with one OpenAI-compatible provider per id in `providers`
 * (default `a`, `b`, `c`), each of which serves every model: deployments name them as `{ provider: 'a', model }`.
 */
export async function rig(options: {
  models: Record<string, ModelBehavior>;
  router: RouterOptions;
  providers?: string[];
  gateway?: Partial<GatewayOptions>;
}): Promise<Rig> {
  const mock = await startMockProvider({ models: options.models });
  const providers = (options.providers ?? ['a', 'b', 'c']).map((id) =>
    openai({ id, baseURL: `${mock.url}/v1`, apiKey: 'test-key' }),
  );
  const plugin = router(options.router);
  const gateway = createGateway({ providers, plugins: [plugin], ...options.gateway });
  return {
    mock,
    gateway,
    plugin,
    requests: (model) => mock.stats().byModel[model] ?? 0,
    async close() {
      await gateway.close();
      await mock.close();
    },
  };
}

/** `{ alias: [a/model-a, b/model-b, c/model-c] }` */
export function threeDeployments(alias = 'smart', extra: Partial<Record<'a' | 'b' | 'c', object>> = {}) {
  return {
    [alias]: (['a', 'b', 'c'] as const).map((id) => ({ provider: id, model: `model-${id}`, ...extra[id] })),
  };
}

/** Reads a streamed call to its end; returns the text and the typed error, if any. */
export async function readStream(
  gateway: Gateway,
  request: ChatCompletionRequest,
  options?: Parameters<Gateway['stream']>[1],
): Promise<{ text: string; chunks: number; error: unknown; stream: ReturnType<Gateway['stream']> }> {
  const stream = gateway.stream(request, options);
  let text = '';
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    return { text, chunks, error: undefined, stream };
  } catch (error) {
    return { text, chunks, error, stream };
  }
}

/** A seeded PRNG (mulberry32), so that random strategies and jitter are reproducible in tests. */
export function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
