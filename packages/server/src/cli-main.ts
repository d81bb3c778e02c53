import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@flowgate/core';
import { startMockProvider } from '@flowgate/mock-provider';
import { CliUsageError, parseCli, type ServeArgs, USAGE } from './cli-args.js';
import { reportListening, runPrimary } from './cluster.js';
import { findConfigFile } from './config-load.js';
import { startDemo } from './demo.js';
import { type PreparedConfig, prepareConfig, type RunningServer, startPrepared } from './start.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Install SIGTERM/SIGINT handlers that drain and exit (the real CLI); off in tests. */
  signals: boolean;
}

export interface CliOutcome {
  /** The exit code when the command is over; `undefined` while a server runs. */
  exitCode: number | undefined;
  /** The running server (`serve` in one process, `demo`). */
  server?: RunningServer;
}

export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
    signals: true,
  };
}

/** On SIGTERM/SIGINT: drain, then exit 0. A second signal exits 1 at once (ignored in a cluster worker: the primary decides). */
export function drainOnSignals(close: () => Promise<void>, io: CliIo): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      if (cluster.isWorker) return;
      io.err('flowgate: second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    if (!cluster.isWorker) io.err(`flowgate: ${sig}, draining in-flight requests…`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        io.err(`flowgate: error while stopping: ${(err as Error)?.message ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function prepareServe(args: ServeArgs, io: CliIo): Promise<PreparedConfig> {
  let configPath = args.configPath;
  if (configPath === undefined && args.providers.length === 0) {
    configPath = await findConfigFile(io.cwd);
    if (configPath === undefined) {
      throw new CliUsageError(
        'no config: pass --config FILE, put a flowgate.config.{ts,js,json} in this directory, or use --provider TYPE=URL / --mock',
      );
    }
  }
  return prepareConfig({
    ...(configPath !== undefined ? { configPath: resolve(io.cwd, configPath) } : {}),
    extraProviders: args.providers,
    env: io.env,
  });
}

function describePrepared(p: PreparedConfig): string {
  const providers = p.config.providers.map((x) => `${x.id} (${x.type})`).join(', ');
  const plugins = p.plugins.map((x) => (x.kind === 'object' ? x.plugin.name : x.name));
  const keys = p.config.keys.size === 0 ? 'open (no API keys)' : `${p.config.keys.size} API key(s)`;
  return `providers: ${providers}; plugins: ${plugins.length > 0 ? plugins.join(', ') : 'none'}; access: ${keys}`;
}

const CLUSTER_MOCKS_ENV = 'FLOWGATE_CLUSTER_MOCK_URLS';

/** Starts, in the cluster primary, the in-process mocks the config asks for; returns provider id -> base URL. */
async function startClusterMocks(prepared: PreparedConfig): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const p of prepared.config.providers) {
    if (p.type !== 'mock' || p.baseURL !== undefined) continue;
    const m = p.mock ?? {};
    const mock = await startMockProvider({
      defaults: {
        ...(m.latencyMs !== undefined ? { latencyMs: m.latencyMs } : {}),
        ...(m.ttftMs !== undefined ? { ttftMs: m.ttftMs } : {}),
        ...(m.tokensPerSecond !== undefined ? { tokensPerSecond: m.tokensPerSecond } : {}),
        ...(m.text !== undefined ? { text: m.text } : {}),
      },
    });
    urls[p.id] = `${mock.url}/v1`;
  }
  return urls;
}

/** In a worker: point the config's in-process mocks at the ones the primary started. */
function useClusterMocks(prepared: PreparedConfig, env: Record<string, string | undefined>): void {
  const raw = env[CLUSTER_MOCKS_ENV];
  if (!raw) return;
  const urls = JSON.parse(raw) as Record<string, string>;
  for (const p of prepared.config.providers) {
    const url = urls[p.id];
    if (p.type === 'mock' && p.baseURL === undefined && url !== undefined) p.baseURL = url;
  }
}

/** Runs the mock provider's own CLI in a child process with the given flags. */
function runMock(argv: string[]): Promise<number> {
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@flowgate/mock-provider/package.json')), 'dist/cli.js');
  const child = spawn(process.execPath, [cli, ...argv], { stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}

/**
 * The `flowgate` command. Usage errors exit 2, config errors exit 1 with every problem and its
 * field path, before anything listens.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<CliOutcome> {
  try {
    const cmd = parseCli(argv, io.env);
    switch (cmd.command) {
      case 'help':
        io.out(USAGE);
        return { exitCode: 0 };
      case 'mock':
        return { exitCode: await runMock(cmd.argv) };
      case 'demo': {
        const demo = await startDemo({
          ...(cmd.port !== undefined ? { port: cmd.port } : {}),
          ...(cmd.host !== undefined ? { host: cmd.host } : {}),
          log: io.out,
          env: io.env,
        });
        if (io.signals) drainOnSignals(() => demo.close(), io);
        return { exitCode: undefined, server: demo.server };
      }
      case 'check': {
        const prepared = await prepareServe(cmd.args, io);
        io.out(`flowgate: config OK; ${describePrepared(prepared)}`);
        return { exitCode: 0 };
      }
      case 'serve': {
        const { args } = cmd;
        const prepared = await prepareServe(args, io);
        if (args.workers > 1 && cluster.isPrimary) {
          // The primary validated the config (and loaded the plugins) so that mistakes fail before forking.
          // In-process mocks run once, here: in a worker their listen() would go through the cluster's port sharing.
          const mockUrls = await startClusterMocks(prepared);
          runPrimary({
            workers: args.workers,
            drainTimeoutMs: prepared.config.limits.drainTimeoutMs,
            log: io.err,
            env: { [CLUSTER_MOCKS_ENV]: JSON.stringify(mockUrls) },
            onListening: (url) => {
              io.out(`flowgate listening on ${url}/v1 with ${args.workers} workers; ${describePrepared(prepared)}`);
            },
          });
          return { exitCode: undefined };
        }
        if (cluster.isWorker) useClusterMocks(prepared, io.env);
        const server = await startPrepared(prepared, {
          ...(args.port !== undefined ? { port: args.port } : {}),
          ...(args.host !== undefined ? { host: args.host } : {}),
        });
        if (cluster.isWorker) reportListening(server.url);
        else io.out(`flowgate listening on ${server.url}/v1; ${describePrepared(prepared)}`);
        if (io.signals) drainOnSignals(() => server.close(), io);
        return { exitCode: undefined, server };
      }
    }
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.err(`flowgate: ${err.message}\nRun "flowgate --help" for usage.`);
      return { exitCode: 2 };
    }
    if (err instanceof ConfigError) {
      io.err(`flowgate: ${err.message}`);
      return { exitCode: 1 };
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
      io.err(`flowgate: cannot listen: ${e.message}`);
      return { exitCode: 1 };
    }
    throw err;
  }
}
