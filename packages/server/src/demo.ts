import type { Plugin } from '@flowgate/core';
import type { FlowgateConfig } from './config.js';
import { InvalidConfigError } from './errors.js';
import { PLUGIN_REGISTRY, type PluginSource } from './plugin-registry.js';
import { importPlugins, instantiatePlugins } from './plugins.js';
import { type RunningServer, startServer } from './start.js';

/** Plugin order of the demo: the first is the outermost (the profiler sees everything, caches answer before routing). */
export const DEMO_PLUGIN_ORDER = ['profiler', 'token-optimizer', 'cache', 'semantic-cache', 'router', 'pool'] as const;

export interface DemoOptions {
  /** Default `PORT`, else 8080; when taken, any free port. */
  port?: number;
  host?: string;
  /** Where the banner goes; default stdout. */
  log?: (line: string) => void;
  env?: Record<string, string | undefined>;
  /** Plugins to try, in order; default `DEMO_PLUGIN_ORDER`. */
  plugins?: readonly string[];
  /** Plugin names -> packages; default the built-in registry. */
  registry?: Readonly<Record<string, PluginSource>>;
}

export interface Demo {
  server: RunningServer;
  url: string;
  /** Plugins installed, in order. */
  plugins: string[];
  /** Plugins left out, with the reason (not installed yet, failed to start...). */
  skipped: { name: string; reason: string }[];
  close(): Promise<void>;
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .find((l) => l.trim().length > 0)
    ?.trim() ?? s;

/** Tries every registered plugin with its default options; keeps those that load and whose dependencies loaded. */
async function loadablePlugins(
  names: readonly string[],
  registry: Readonly<Record<string, PluginSource>>,
  aliases: NonNullable<FlowgateConfig['aliases']>,
): Promise<{ plugins: Plugin[]; skipped: Demo['skipped'] }> {
  const skipped: Demo['skipped'] = [];
  const plugins: Plugin[] = [];
  for (const name of names) {
    const source = registry[name];
    if (!source) {
      skipped.push({ name, reason: 'not a known plugin name' });
      continue;
    }
    try {
      const imported = await importPlugins([{ kind: 'load', path: name, name, source, options: {} }], process.cwd());
      plugins.push(...instantiatePlugins(imported, aliases));
    } catch (err) {
      const reason = err instanceof InvalidConfigError ? (err.issues[0]?.message ?? err.message) : String(err);
      skipped.push({ name, reason: firstLine(reason.replace(`plugin "${name}": `, '')) });
    }
  }
  // A plugin whose dependency was skipped would fail the gateway: leave it out too.
  for (let changed = true; changed; ) {
    changed = false;
    const names = new Set(plugins.map((p) => p.name));
    for (let i = plugins.length - 1; i >= 0; i--) {
      const missing = plugins[i]!.dependsOn?.find((d) => !names.has(d));
      if (missing !== undefined) {
        skipped.push({ name: plugins[i]!.name, reason: `needs "${missing}", which is not installed` });
        plugins.splice(i, 1);
        changed = true;
      }
    }
  }
  return { plugins, skipped };
}

/**
 * The demo: the built-in mock provider (in-process), a gateway with every plugin that can be loaded,
 * Prometheus metrics on `/metrics`, and the server. Prints the URL, example curls, and the metrics
 * and admin URLs. Stop it with `close()` (the CLI wires Ctrl+C / SIGTERM to it).
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = options.env ?? process.env;
  const aliases = {
    smart: [
      { provider: 'mock', model: 'gpt-4o', priority: 0 },
      { provider: 'mock', model: 'gpt-4o-mini', priority: 1 },
    ],
  };
  const { plugins, skipped } = await loadablePlugins(
    options.plugins ?? DEMO_PLUGIN_ORDER,
    options.registry ?? PLUGIN_REGISTRY,
    aliases,
  );
  const config: FlowgateConfig = {
    // Every model; the exact names are what `GET /v1/models` lists.
    providers: [
      { id: 'mock', type: 'mock', models: ['gpt-4o', 'gpt-4o-mini', '*'], mock: { ttftMs: 20, tokensPerSecond: 200 } },
    ],
    aliases,
    telemetry: { serviceName: 'flowgate-demo' },
    plugins,
  };
  const wanted = options.port ?? (env.PORT ? Number(env.PORT) : 8080);
  let server: RunningServer;
  try {
    server = await startServer({ config, env, port: wanted, ...(options.host ? { host: options.host } : {}) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    log(`flowgate demo: port ${wanted} is taken, using a free one`);
    server = await startServer({ config, env, port: 0, ...(options.host ? { host: options.host } : {}) });
  }
  const url = server.url;
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is flowgate?' }] });
  const streamBody = JSON.stringify({
    model: 'smart',
    stream: true,
    messages: [{ role: 'user', content: 'Count to five' }],
  });
  const lines = [
    '',
    'flowgate demo: an OpenAI-compatible gateway on the built-in mock provider',
    '',
    `  API       ${url}/v1   (open: no API key needed; any key works with the OpenAI clients)`,
    `  models    gpt-4o, gpt-4o-mini, ... and the alias "smart" (gpt-4o, falling back to gpt-4o-mini)`,
    `  plugins   ${plugins.length > 0 ? plugins.map((p) => p.name).join(', ') : 'none'}`,
    ...skipped.map((s) => `  skipped   ${s.name}: ${s.reason}`),
    '',
    '  try it:',
    `    curl -s ${url}/v1/chat/completions -H 'content-type: application/json' \\`,
    `      -d '${body}'`,
    `    curl -sN ${url}/v1/chat/completions -H 'content-type: application/json' \\`,
    `      -d '${streamBody}'`,
    '',
    `  dashboard ${url}/dashboard`,
    `  metrics   ${url}/metrics`,
    `  admin     ${url}/admin/performance`,
    `  health    ${url}/healthz  ${url}/readyz`,
    '',
    '  stop: Ctrl+C (finishes the requests in flight, then exits)',
    '',
  ];
  for (const line of lines) log(line);
  return {
    server,
    url,
    plugins: plugins.map((p) => p.name),
    skipped,
    close: () => server.close(),
  };
}
