import { createGateway, type Gateway, type Plugin, type Provider } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { anthropic, type ModelFilter, openai } from '@flowgate/providers';
import { startTelemetry, type Telemetry } from '@flowgate/telemetry';
import { aliasRouter } from './alias-router.js';
import type { ValidConfig, ValidProvider } from './config-validate.js';
import { hasRouterPlugin, type ImportedPlugin, instantiatePlugins } from './plugins.js';

/** Everything a server runs on, built from a validated config. */
export interface Runtime {
  gateway: Gateway;
  /** The plugins as installed, in order (the server reads their `adminSummary()`). */
  plugins: readonly Plugin[];
  /** `undefined` when telemetry is off. */
  telemetry: Telemetry | undefined;
  /** Provider id -> the config it came from (with the key resolved: keep it server-side). */
  providerConfigs: ReadonlyMap<string, ValidProvider>;
  /** Closes the gateway, flushes telemetry, stops in-process mocks. */
  close(): Promise<void>;
}

/** `['gpt-*', 'o1']` -> a filter; exact names stay a list (a Set lookup), patterns become one RegExp. */
export function modelFilter(models: readonly string[] | undefined): ModelFilter | undefined {
  if (models === undefined) return undefined;
  if (!models.some((m) => m.includes('*'))) return models;
  const toPattern = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^(?:${models.map(toPattern).join('|')})$`);
}

async function buildProvider(p: ValidProvider, mocks: MockProvider[]): Promise<Provider> {
  const models = modelFilter(p.models);
  const common = {
    id: p.id,
    ...(p.apiKey !== undefined ? { apiKey: p.apiKey } : {}),
    ...(models !== undefined ? { models } : {}),
    ...(p.headers !== undefined ? { headers: p.headers } : {}),
  };
  if (p.type === 'anthropic') {
    return anthropic({
      ...common,
      ...(p.baseURL !== undefined ? { baseURL: p.baseURL } : {}),
      ...(p.version !== undefined ? { version: p.version } : {}),
      ...(p.defaultMaxTokens !== undefined ? { defaultMaxTokens: p.defaultMaxTokens } : {}),
    });
  }
  let baseURL = p.baseURL;
  if (p.type === 'mock' && baseURL === undefined) {
    const m = p.mock ?? {};
    const mock = await startMockProvider({
      defaults: {
        ...(m.latencyMs !== undefined ? { latencyMs: m.latencyMs } : {}),
        ...(m.ttftMs !== undefined ? { ttftMs: m.ttftMs } : {}),
        ...(m.tokensPerSecond !== undefined ? { tokensPerSecond: m.tokensPerSecond } : {}),
        ...(m.text !== undefined ? { text: m.text } : {}),
      },
    });
    mocks.push(mock);
    baseURL = `${mock.url}/v1`;
  }
  return openai({
    ...common,
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(p.organization !== undefined ? { organization: p.organization } : {}),
    ...(p.project !== undefined ? { project: p.project } : {}),
  });
}

/**
 * Builds the runtime: telemetry first (the gateway reads the meter provider when it is created),
 * then providers (starting in-process mocks), plugins, and the gateway. On failure, whatever was
 * started is stopped again.
 */
export async function buildRuntime(config: ValidConfig, imported: readonly ImportedPlugin[]): Promise<Runtime> {
  const mocks: MockProvider[] = [];
  let telemetry: Telemetry | undefined;
  const stopStarted = async () => {
    await Promise.allSettled(mocks.map((m) => m.close()));
    await telemetry?.shutdown();
  };
  try {
    const plugins = instantiatePlugins(imported, config.aliases);
    if (Object.keys(config.aliases).length > 0 && !hasRouterPlugin(imported)) plugins.push(aliasRouter(config.aliases));
    const t = config.telemetry;
    if (t && (t.traces || t.metrics)) {
      telemetry = startTelemetry({
        ...(t.serviceName !== undefined ? { serviceName: t.serviceName } : {}),
        traces: t.traces ? (t.traces.endpoint ? { endpoint: t.traces.endpoint } : {}) : false,
        metrics: t.metrics ? { prometheus: { mount: true } } : false,
      });
      if (telemetry.disabled) telemetry = undefined;
    }
    const providers: Provider[] = [];
    for (const p of config.providers) providers.push(await buildProvider(p, mocks));
    const gateway = createGateway({
      providers,
      plugins,
      defaultTimeoutMs: config.limits.requestTimeoutMs,
      ...(telemetry?.meterProvider ? { meterProvider: telemetry.meterProvider } : {}),
    });
    let closing: Promise<void> | undefined;
    return {
      gateway,
      plugins,
      telemetry,
      providerConfigs: new Map(config.providers.map((p) => [p.id, p])),
      close() {
        closing ??= (async () => {
          await gateway.close();
          await stopStarted();
        })();
        return closing;
      },
    };
  } catch (err) {
    await stopStarted();
    throw err;
  }
}
