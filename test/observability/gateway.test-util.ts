/**
 * The gateway of examples/observability, for the observability tests: the example's own
 * flowgate.config.json (aliases, tenants, every plugin, Prometheus on /metrics), with its two
 * upstreams replaced by mock providers that the test controls (so faults are scripted, not random),
 * and a workload that makes every panel of the Grafana dashboard and of /dashboard have data:
 * fallbacks, an open circuit breaker, a retry, exact and semantic cache hits, cost for two tenants,
 * a budget refusal, streamed calls (time to first token).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { type FlowgateConfig, type RunningServer, startServer } from '@flowgate/server';
import { expect } from 'vitest';

export const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/observability/', import.meta.url));
export const CONFIG_FILE = `${EXAMPLE_DIR}flowgate.config.json`;
export const KEYS = { acme: 'fg-acme-test-key', globex: 'fg-globex-test-key' } as const;
export const ENV = { FLOWGATE_KEY_ACME: KEYS.acme, FLOWGATE_KEY_GLOBEX: KEYS.globex };

export interface ExampleGateway {
  server: RunningServer;
  url: string;
  /** Stands in for the config's in-process `primary` mock. */
  primary: MockProvider;
  /** Stands in for the `flaky` upstream: every gpt-4o call fails with 503. */
  flaky: MockProvider;
  close(): Promise<void>;
}

/** The example config, with each provider pointed at a mock of the test (same ids and models). */
export function exampleConfig(upstreams: Record<string, string>): FlowgateConfig {
  const config = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as FlowgateConfig;
  config.providers = config.providers.map((p) => {
    const baseURL = upstreams[p.id];
    if (baseURL === undefined) throw new Error(`no test upstream for provider "${p.id}"`);
    const { mock: _inProcess, ...rest } = p;
    return { ...rest, baseURL };
  });
  return config;
}

/** `env`: more variables for the config (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`, which turns traces on). */
export async function startExampleGateway(env: Record<string, string> = {}): Promise<ExampleGateway> {
  const primary = await startMockProvider({ defaults: { ttftMs: 3, tokensPerSecond: 4000 } });
  const flaky = await startMockProvider({
    models: { 'gpt-4o': { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] } },
  });
  let server: RunningServer;
  try {
    server = await startServer({
      config: exampleConfig({ primary: `${primary.url}/v1`, flaky: `${flaky.url}/v1` }),
      env: { ...ENV, ...env },
      port: 0,
      host: '127.0.0.1',
    });
  } catch (err) {
    await Promise.all([primary.close(), flaky.close()]);
    throw err;
  }
  return {
    server,
    url: server.url,
    primary,
    flaky,
    async close() {
      // Also stops the telemetry (flush, then the global OpenTelemetry API is reset).
      await server.close();
      await Promise.all([primary.close(), flaky.close()]);
    },
  };
}

export interface ChatOptions {
  tenant?: keyof typeof KEYS;
  model?: string;
  stream?: boolean;
  maxTokens?: number;
}

/** One chat call over HTTP as a client sends it; resolves with the status (a stream is read to its end). */
export async function chat(url: string, content: string, o: ChatOptions = {}): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS[o.tenant ?? 'acme']}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: o.model ?? 'fast',
      messages: [{ role: 'user', content }],
      ...(o.stream ? { stream: true } : {}),
      ...(o.maxTokens !== undefined ? { max_tokens: o.maxTokens } : {}),
    }),
  });
  await res.text();
  return res.status;
}

interface Summary {
  providers: Record<string, { breakers: Record<string, string> | null }>;
}

export async function adminSummary(url: string): Promise<Summary> {
  const res = await fetch(`${url}/admin/performance`);
  expect(res.status).toBe(200);
  return (await res.json()) as Summary;
}

/**
 * The workload. Statuses are checked as it goes, so that a plugin that stopped doing its job
 * fails here rather than as a missing metric later.
 */
export async function runWorkload(g: ExampleGateway): Promise<void> {
  const { url } = g;
  // `smart` tries `flaky` first: every call falls back to `primary` until the breaker opens.
  for (let i = 0; i < 8; i++) {
    expect(await chat(url, `Explain connection pooling, part ${i}`, { model: 'smart', stream: i % 2 === 0 })).toBe(200);
  }
  // Exact cache: the same question twice more.
  for (let i = 0; i < 3; i++) expect(await chat(url, 'What is a circuit breaker?')).toBe(200);
  // Semantic cache: a paraphrase of an answered question.
  expect(await chat(url, 'How do hurricanes form?')).toBe(200);
  expect(await chat(url, 'What causes hurricanes to form?')).toBe(200);
  // Cost for the second tenant, streamed.
  for (let i = 0; i < 3; i++) {
    expect(await chat(url, `Summarize the release notes ${i}`, { tenant: 'globex', stream: true })).toBe(200);
  }
  // `batch` is served by `flaky` alone (whose gpt-4o-mini works in this test).
  expect(await chat(url, 'Classify this document', { model: 'batch' })).toBe(200);
  // A retry: `fast` has one deployment; its first attempt fails once, the retry succeeds.
  g.primary.script('gpt-4o-mini', [{ type: 'status', status: 503 }, 'ok']);
  expect(await chat(url, 'Retry this one please')).toBe(200);
  // A budget refusal: globex has $0.01 a day; 2000 output tokens of `smart` are estimated above it.
  expect(await chat(url, 'Write a long essay', { tenant: 'globex', model: 'smart', maxTokens: 2000 })).toBe(429);
}
