import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import OpenAI from 'openai';
import { expect } from 'vitest';
import type { FlowgateConfig } from './config.js';
import { type RunningServer, startServer } from './start.js';

export const UPSTREAM_KEY = 'sk-upstream-secret-4f1c';
export const GATEWAY_KEY = 'sk-gw-alpha-2b7e';
export const ENV = { TEST_UPSTREAM_KEY: UPSTREAM_KEY, TEST_GATEWAY_KEY: GATEWAY_KEY };

/** The mock provider as the upstream, requiring the upstream key (so a leaked or missing key shows). */
export function startUpstream(): Promise<MockProvider> {
  return startMockProvider({ apiKey: UPSTREAM_KEY });
}

/** A config with one OpenAI-compatible provider on the mock, one gateway key, no telemetry. */
export function baseConfig(mock: MockProvider, extra: Partial<FlowgateConfig> = {}): FlowgateConfig {
  return {
    providers: [{ id: 'mock', type: 'openai', baseURL: `${mock.url}/v1`, apiKeyEnv: 'TEST_UPSTREAM_KEY' }],
    keys: [{ keyEnv: 'TEST_GATEWAY_KEY', tenant: 'alpha' }],
    telemetry: false,
    ...extra,
  };
}

export function startTestServer(mock: MockProvider, extra: Partial<FlowgateConfig> = {}): Promise<RunningServer> {
  return startServer({ config: baseConfig(mock, extra), env: ENV, port: 0 });
}

/** The official OpenAI client against the server; no retries, so each call is one request. */
export function client(server: { url: string }, apiKey = GATEWAY_KEY): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
}

/** Polls a condition (no timing assertion: it only bounds how long we wait for it). */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond(), what).toBe(true);
}
