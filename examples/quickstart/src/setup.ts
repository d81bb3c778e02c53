import { createGateway, type Gateway, type Provider } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { type CachePlugin, cache, memoryStore } from '@flowgate/plugin-cache';
import { type PoolPlugin, pool } from '@flowgate/plugin-pool';
import { type ProfilerPlugin, profiler } from '@flowgate/plugin-profiler';
import { type RouterPlugin, router } from '@flowgate/plugin-router';
import { type SemanticCachePlugin, semanticCache } from '@flowgate/plugin-semantic-cache';
import { type TokenOptimizer, tokenOptimizer } from '@flowgate/plugin-token-optimizer';
import { anthropic, openai } from '@flowgate/providers';

/** Everything the demo runs on, and the plugin handles its summary reads. */
export interface DemoSetup {
  gateway: Gateway;
  /** Model names the workload asks for. */
  models: string[];
  usingMock: boolean;
  mocks: MockProvider[];
  plugins: {
    profiler: ProfilerPlugin;
    cache: CachePlugin;
    semantic: SemanticCachePlugin;
    tokens: TokenOptimizer;
    router: RouterPlugin;
    pool: PoolPlugin;
  };
  close(): Promise<void>;
}

/** Latency shaped like a hosted model: a short wait for headers, a first token, then ~150 tokens/s. */
const HOSTED = { latencyMs: { min: 20, max: 60 }, ttftMs: 40, tokensPerSecond: 150 } as const;

/**
 * The demo's upstreams and gateway. On the built-in mock: two OpenAI-compatible upstreams, one of
 * them failing half of its calls, behind the alias `fast` (the router falls back and opens the flaky
 * one's breaker), and an Anthropic-compatible one. With OPENAI_API_KEY / ANTHROPIC_API_KEY the
 * real providers take their place.
 */
export async function setUpDemo(env: Record<string, string | undefined>): Promise<DemoSetup> {
  const mocks: MockProvider[] = [];
  const providers: Provider[] = [];
  const deployments: { provider: string; model: string; priority: number }[] = [];
  const models: string[] = [];

  if (env.OPENAI_API_KEY || env.ANTHROPIC_API_KEY) {
    if (env.ANTHROPIC_API_KEY) {
      providers.push(anthropic({ apiKey: env.ANTHROPIC_API_KEY }));
      models.push(env.FLOWGATE_ANTHROPIC_MODEL ?? 'claude-haiku-4-5');
    }
    if (env.OPENAI_API_KEY) {
      providers.push(openai({ apiKey: env.OPENAI_API_KEY }));
      deployments.push({ provider: 'openai', model: env.FLOWGATE_OPENAI_MODEL ?? 'gpt-4o-mini', priority: 0 });
      models.push('fast');
    }
  } else {
    const flaky = await startMockProvider({
      defaults: { ...HOSTED, faults: [{ fault: { type: 'status', status: 503 }, rate: 0.5 }] },
    });
    const steady = await startMockProvider({ defaults: HOSTED });
    mocks.push(flaky, steady);
    providers.push(
      // anthropic() serves claude-* only; the OpenAI-compatible ones serve what the router sends them.
      anthropic({ id: 'mock-anthropic', apiKey: 'demo', baseURL: steady.url }),
      openai({ id: 'flaky-openai', apiKey: 'demo', baseURL: `${flaky.url}/v1`, models: /^gpt-/ }),
      openai({ id: 'steady-openai', apiKey: 'demo', baseURL: `${steady.url}/v1`, models: /^gpt-/ }),
    );
    deployments.push(
      { provider: 'flaky-openai', model: 'gpt-4o-mini', priority: 0 },
      { provider: 'steady-openai', model: 'gpt-4o-mini', priority: 1 },
    );
    models.push('fast', 'claude-haiku-4-5');
  }

  const plugins = {
    // First registered = outermost: the profiler sees whole calls, a cache hit skips everything after it.
    profiler: profiler({ sampleRate: 1 }),
    cache: cache({ store: memoryStore({ maxEntries: 10_000 }), keying: 'context' }),
    // After the exact cache: answers similar questions from the same store, guarded against near misses.
    semantic: semanticCache(),
    tokens: tokenOptimizer({ budget: { tenant: { dailyUsd: 1 } } }),
    router: router({
      models: deployments.length > 0 ? { fast: deployments } : {},
      strategy: 'priority',
      breaker: { volumeThreshold: 5, errorThresholdPercentage: 30, resetTimeoutMs: 10_000 },
    }),
    pool: pool({ warmUp: { connections: 2 } }),
  };
  // Budgets are checked before routing, on the model asked for: price the alias like its deployments.
  for (const d of deployments) plugins.tokens.prices.alias('fast', d.model);
  const gateway = createGateway({ providers, plugins: Object.values(plugins) });
  await gateway.ready();
  return {
    gateway,
    models,
    usingMock: mocks.length > 0,
    mocks,
    plugins,
    async close() {
      await gateway.close();
      await Promise.all(mocks.map((m) => m.close()));
    },
  };
}
