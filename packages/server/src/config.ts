import type { Plugin } from '@flowgate/core';

/** An upstream. Secrets come from the environment only: `apiKeyEnv` names the variable. */
export interface ProviderConfig {
  /** Unique id; deployments and `/v1/models` refer to it. */
  id: string;
  /**
   * `openai` (any OpenAI-compatible server), `anthropic`, or `mock`: the built-in mock provider,
   * started in-process unless `baseURL` points at one already running.
   */
  type: 'openai' | 'anthropic' | 'mock';
  /** Default: the provider's public API (`https://api.openai.com/v1`, `https://api.anthropic.com`). */
  baseURL?: string;
  /** Name of the environment variable that holds the upstream key, e.g. `OPENAI_API_KEY`. */
  apiKeyEnv?: string;
  /** Models served: exact names or `*` patterns (`gpt-*`). Default: every model (openai, mock), `claude*` (anthropic). */
  models?: string[];
  /** Extra non-secret request headers. */
  headers?: Record<string, string>;
  /** openai: `OpenAI-Organization` / `OpenAI-Project`. */
  organization?: string;
  project?: string;
  /** anthropic: `anthropic-version` and the `max_tokens` used when a request sets none. */
  version?: string;
  defaultMaxTokens?: number;
  /** mock (in-process): how the built-in mock answers. */
  mock?: { latencyMs?: number; ttftMs?: number; tokensPerSecond?: number; text?: string };
}

/** One deployment behind an alias. */
export interface DeploymentConfig {
  /** A provider id from `providers`. */
  provider: string;
  model: string;
  /** Share of traffic for weighted strategies (router plugin). */
  weight?: number;
  /** Lower is tried first. */
  priority?: number;
  tags?: string[];
  /** Router plugin: context window in tokens (context-length fallback, cost-aware strategy). */
  contextWindow?: number;
  /** Router plugin: price of this deployment (USD per million tokens), passed through. */
  price?: Record<string, unknown>;
  /** Identity for breakers and stats; default `provider/model`. */
  key?: string;
}

/** A gateway API key and the tenant it stands for. Give `keyEnv` (preferred) or `key`. */
export interface KeyConfig {
  keyEnv?: string;
  key?: string;
  tenant: string;
}

export interface LimitsConfig {
  /** Largest request body accepted; larger ones get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Model calls in flight per process before new ones are shed with 429 + Retry-After. Default 1024. */
  maxConcurrent?: number;
  /** Deadline of a model call, retries and the whole stream included; then 504. Default 600000 (10 min). */
  requestTimeoutMs?: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before they are cut. Default 30000. */
  drainTimeoutMs?: number;
}

export interface TelemetryConfig {
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `flowgate`. */
  serviceName?: string;
  /**
   * OTLP traces. Default: on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
   * is set (so a gateway without a collector does not log export failures), else off.
   */
  traces?: boolean | { endpoint: string };
  /** Prometheus metrics on the server's `/metrics`. Default true. */
  metrics?: boolean;
}

/** A plugin by registry name (`cache`), or any package/file that exports a factory. */
export interface PluginConfig {
  name: string;
  /** Passed to the factory. */
  options?: Record<string, unknown>;
  /** A package name or a path (relative to the config file) to load instead of the registry's. */
  module?: string;
  /** The factory's export name in `module` (default: the registry's, else `default`). */
  export?: string;
}

export interface FlowgateConfig {
  /** Default 8080. */
  port?: number;
  /** Default 127.0.0.1 (use 0.0.0.0 in a container). */
  host?: string;
  providers: ProviderConfig[];
  /** Model alias -> deployments. Handed to the router plugin when it is configured, else routed in order. */
  aliases?: Record<string, DeploymentConfig[]>;
  /** Gateway API keys. None = an open gateway (anyone who can reach it may call it). */
  keys?: KeyConfig[];
  limits?: LimitsConfig;
  /** `false` turns telemetry off. */
  telemetry?: TelemetryConfig | false;
  /** In order; the first plugin's middleware is the outermost. A `.ts`/`.js` config may pass plugin objects. */
  plugins?: (PluginConfig | Plugin)[];
}

/** Typing helper for `flowgate.config.ts` / `.js`: returns its argument. */
export function defineConfig(config: FlowgateConfig): FlowgateConfig {
  return config;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LIMITS: Required<LimitsConfig> = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxConcurrent: 1024,
  requestTimeoutMs: 600_000,
  drainTimeoutMs: 30_000,
};
