import { parseArgs } from 'node:util';
import type { ProviderConfig } from './config.js';

export const USAGE = `Usage: flowgate <command> [options]

Commands:
  serve      run the OpenAI-compatible gateway server
  check      validate a config (and load its plugins) without starting anything
  demo       the gateway on the built-in mock provider with every installed plugin
  mock       run the built-in mock provider (flags: flowgate mock --help)

flowgate serve [options]
  --config <file>          flowgate.config.{ts,mts,js,mjs,json} (default: the one in the current directory)
  --port <n>               port (default: the config's, else 8080; 0 = any free port)
  --host <addr>            address to bind (default: the config's, else 127.0.0.1)
  --provider <type=URL>    add a provider: openai=URL, anthropic=URL or mock=URL (repeatable); its key is
                           read from OPENAI_API_KEY / ANTHROPIC_API_KEY when set
  --mock                   add the built-in mock provider, started in-process (id "mock", every model)
  --workers <n>            run n worker processes on one port (node:cluster); dead workers are restarted
  -h, --help               show this help

flowgate check --config <file>      same flags as serve
flowgate demo [--port <n>] [--host <addr>]

SIGTERM / SIGINT drain: stop accepting, finish the requests in flight (limits.drainTimeoutMs), close the
gateway, flush telemetry, exit. A second signal exits at once.
`;

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

export interface ServeArgs {
  configPath?: string;
  port?: number;
  host?: string;
  providers: ProviderConfig[];
  workers: number;
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'serve' | 'check'; args: ServeArgs }
  | { command: 'demo'; port?: number; host?: string }
  | { command: 'mock'; argv: string[] };

const KEY_ENV: Record<string, string | undefined> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  mock: undefined,
};

function port(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new CliUsageError(`${flag} must be a port number, got "${value}"`);
  return n;
}

/** `openai=https://api.openai.com/v1` -> a provider config; the id is the type (`openai-2` for a second one). */
export function parseProviderFlag(
  spec: string,
  taken: Set<string>,
  env: Record<string, string | undefined>,
): ProviderConfig {
  const eq = spec.indexOf('=');
  if (eq <= 0)
    throw new CliUsageError(`--provider wants TYPE=URL (e.g. openai=http://localhost:8000/v1), got "${spec}"`);
  const type = spec.slice(0, eq);
  const baseURL = spec.slice(eq + 1);
  if (!(type in KEY_ENV)) {
    throw new CliUsageError(`--provider: unknown provider type "${type}" (expected openai, anthropic or mock)`);
  }
  let id = type;
  for (let i = 2; taken.has(id); i++) id = `${type}-${i}`;
  taken.add(id);
  const p: ProviderConfig = { id, type: type as ProviderConfig['type'], baseURL };
  const keyEnv = KEY_ENV[type];
  if (keyEnv !== undefined && env[keyEnv]) p.apiKeyEnv = keyEnv;
  return p;
}

/** Parses `flowgate ...` arguments; throws `CliUsageError` with a message meant for the user. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = process.env): CliCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help')
    return { command: 'help' };
  if (command === 'mock') return { command: 'mock', argv: rest };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options:
        command === 'demo'
          ? { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
          : {
              config: { type: 'string', short: 'c' },
              port: { type: 'string', short: 'p' },
              host: { type: 'string' },
              provider: { type: 'string', multiple: true },
              mock: { type: 'boolean' },
              workers: { type: 'string', short: 'w' },
              help: { type: 'boolean', short: 'h' },
            },
    }));
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  if (values.help) return { command: 'help' };
  if (command === 'demo') {
    const p = port(values.port as string | undefined);
    return {
      command: 'demo',
      ...(p !== undefined ? { port: p } : {}),
      ...(values.host !== undefined ? { host: values.host as string } : {}),
    };
  }
  if (command !== 'serve' && command !== 'check') throw new CliUsageError(`unknown command "${command}"`);
  const taken = new Set<string>();
  const providers: ProviderConfig[] = [];
  if (values.mock) {
    taken.add('mock');
    providers.push({ id: 'mock', type: 'mock' });
  }
  for (const spec of (values.provider as string[] | undefined) ?? [])
    providers.push(parseProviderFlag(spec, taken, env));
  const workersRaw = values.workers as string | undefined;
  const workers = workersRaw === undefined ? 1 : Number(workersRaw);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new CliUsageError(`--workers must be a whole number from 1, got "${workersRaw}"`);
  }
  const args: ServeArgs = { providers, workers };
  if (values.config !== undefined) args.configPath = values.config as string;
  const p = port(values.port as string | undefined);
  if (p !== undefined) args.port = p;
  if (values.host !== undefined) args.host = values.host as string;
  return { command, args };
}
