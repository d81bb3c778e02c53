import { dirname, resolve } from 'node:path';
import type { FlowgateConfig, ProviderConfig } from './config.js';
import { loadConfigFile } from './config-load.js';
import { type ValidConfig, validateConfig } from './config-validate.js';
import { PLUGIN_REGISTRY, type PluginSource } from './plugin-registry.js';
import { type ImportedPlugin, importPlugins } from './plugins.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { createServer, type FlowgateServer, type ModelEntry } from './server.js';

export interface PrepareOptions {
  /** A config object (as `flowgate.config.*` exports), or… */
  config?: FlowgateConfig | Record<string, unknown>;
  /** …the path of a config file (`.ts`, `.mts`, `.js`, `.mjs`, `.json`). */
  configPath?: string;
  /** Providers added after the config's (CLI `--provider`, `--mock`); one with the same id replaces the config's. */
  extraProviders?: ProviderConfig[];
  /** Where secrets are read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Plugin names -> packages; default the built-in registry. */
  registry?: Readonly<Record<string, PluginSource>>;
}

export interface StartServerOptions extends PrepareOptions {
  /** Override the config's port (0 = any free port). */
  port?: number;
  /** Override the config's host. */
  host?: string;
}

export interface PreparedConfig {
  config: ValidConfig;
  plugins: ImportedPlugin[];
}

export interface RunningServer extends FlowgateServer {
  readonly url: string;
  readonly config: ValidConfig;
  readonly runtime: Runtime;
}

/**
 * Loads, validates and resolves a config, and imports the plugin packages it names; nothing is
 * started. Every mistake is an `InvalidConfigError` (code `FLOWGATE_ERR_CONFIG`) naming the field.
 */
export async function prepareConfig(options: PrepareOptions): Promise<PreparedConfig> {
  let raw: unknown;
  let baseDir = process.cwd();
  let source: string | undefined;
  if (options.config !== undefined) raw = options.config;
  else if (options.configPath !== undefined) {
    source = resolve(options.configPath);
    baseDir = dirname(source);
    raw = await loadConfigFile(source);
  } else raw = { providers: [] };
  raw = withExtraProviders(raw, options.extraProviders);
  const config = validateConfig(raw, {
    env: options.env ?? process.env,
    registry: options.registry ?? PLUGIN_REGISTRY,
    ...(source !== undefined ? { source } : {}),
  });
  const plugins = await importPlugins(config.plugins, baseDir);
  return { config, plugins };
}

function withExtraProviders(raw: unknown, extra: ProviderConfig[] | undefined): unknown {
  if (!extra || extra.length === 0) return raw;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  const existing = Array.isArray(r.providers) ? (r.providers as unknown[]) : [];
  const ids = new Set(extra.map((p) => p.id));
  const kept = existing.filter(
    (p) => !(typeof p === 'object' && p !== null && ids.has((p as { id?: unknown }).id as string)),
  );
  return { ...r, providers: [...kept, ...extra] };
}

/** What `GET /v1/models` lists: aliases (owned by `flowgate`) and every exact model name a provider declares. */
export function modelEntries(config: ValidConfig): ModelEntry[] {
  const seen = new Set<string>();
  const out: ModelEntry[] = [];
  for (const alias of Object.keys(config.aliases)) {
    seen.add(alias);
    out.push({ id: alias, owned_by: 'flowgate' });
  }
  for (const p of config.providers) {
    for (const m of p.models ?? []) {
      if (m.includes('*') || seen.has(m)) continue;
      seen.add(m);
      out.push({ id: m, owned_by: p.id });
    }
  }
  return out;
}

/** Starts the server of a prepared config: telemetry, providers, plugins, gateway, then listen. */
export async function startPrepared(
  prepared: PreparedConfig,
  listen: { port?: number; host?: string } = {},
): Promise<RunningServer> {
  const { config } = prepared;
  const runtime = await buildRuntime(config, prepared.plugins);
  const server = createServer({
    gateway: runtime.gateway,
    keys: config.keys,
    limits: config.limits,
    metricsHandler: runtime.telemetry?.metricsHandler,
    meterProvider: runtime.telemetry?.meterProvider,
    plugins: runtime.plugins,
    models: modelEntries(config),
    onClose: () => runtime.close(),
  });
  let url: string;
  try {
    url = await server.listen(listen.port ?? config.port, listen.host ?? config.host);
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return {
    server: server.server,
    handler: server.handler,
    url,
    config,
    runtime,
    get draining() {
      return server.draining;
    },
    inFlight: server.inFlight,
    listen: server.listen,
    close: server.close,
  };
}

/**
 * Loads a config, starts everything it declares and listens. Config mistakes reject with
 * `InvalidConfigError` before anything is started.
 *
 * @example
 * const server = await startServer({ configPath: 'flowgate.config.ts' });
 * console.log(`listening on ${server.url}`);
 * process.once('SIGTERM', () => server.close()); // drains in-flight requests first
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const prepared = await prepareConfig(options);
  return startPrepared(prepared, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
}
