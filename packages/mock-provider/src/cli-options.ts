import { parseArgs } from 'node:util';
import type { FaultRule, MockProviderOptions, ModelBehavior } from './types.js';

export const USAGE = `Usage: flowgate-mock [options]

  --port <n>          port to listen on (default 8081; 0 = any free port)
  --host <addr>       address to bind (default 127.0.0.1)
  --latency <ms>      delay before each response starts
  --ttft <ms>         streamed: delay between headers and the first content event
  --tps <n>           streamed: content events per second after the first
  --text <s>          fixed answer text (default: "Mock answer to: <question>")
  --fault <f>         fault injected at --fault-rate: a status (429, 500, 503, ...), reset, hang,
                      stall[:N], malformed-json, malformed-sse, truncate
  --fault-rate <r>    probability 0..1 of --fault per request (default 0.1 when --fault is given)
  --retry-after <s>   Retry-After seconds on status faults
  --seed <n>          PRNG seed for fault draws (default 1)
  --api-key <key>     require this key (Bearer for OpenAI, x-api-key for Anthropic)
  -h, --help          show this help
`;

export class CliUsageError extends Error {}

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CliUsageError(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

function parseFault(spec: string, retryAfter: number | undefined): FaultRule['fault'] {
  if (/^\d{3}$/.test(spec)) {
    const status = Number(spec);
    return retryAfter === undefined ? { type: 'status', status } : { type: 'status', status, retryAfter };
  }
  if (spec === 'stall' || spec.startsWith('stall:')) {
    const after = spec === 'stall' ? 2 : Number(spec.slice('stall:'.length));
    if (!Number.isInteger(after) || after < 0) throw new CliUsageError(`bad --fault "${spec}"`);
    return { type: 'stall', afterChunks: after };
  }
  switch (spec) {
    case 'reset':
    case 'hang':
    case 'malformed-json':
    case 'malformed-sse':
    case 'truncate':
      return { type: spec };
    default:
      throw new CliUsageError(`unknown --fault "${spec}"`);
  }
}

/** Server options from command-line arguments; `help` when usage was asked for. */
export function parseCliOptions(argv: string[]): { help: boolean; options: MockProviderOptions } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      latency: { type: 'string' },
      ttft: { type: 'string' },
      tps: { type: 'string' },
      text: { type: 'string' },
      fault: { type: 'string' },
      'fault-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      seed: { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const defaults: ModelBehavior = {};
  const latency = num('latency', values.latency);
  if (latency !== undefined) defaults.latencyMs = latency;
  const ttft = num('ttft', values.ttft);
  if (ttft !== undefined) defaults.ttftMs = ttft;
  const tps = num('tps', values.tps);
  if (tps !== undefined) defaults.tokensPerSecond = tps;
  if (values.text !== undefined) defaults.text = values.text;
  const rate = num('fault-rate', values['fault-rate']);
  if (rate !== undefined && rate > 1) throw new CliUsageError('--fault-rate must be between 0 and 1');
  if (values.fault !== undefined) {
    defaults.faults = [
      { fault: parseFault(values.fault, num('retry-after', values['retry-after'])), rate: rate ?? 0.1 },
    ];
  } else if (rate !== undefined) {
    throw new CliUsageError('--fault-rate needs --fault');
  }
  const options: MockProviderOptions = { port: num('port', values.port) ?? 8081, defaults };
  if (values.host !== undefined) options.host = values.host;
  const seed = num('seed', values.seed);
  if (seed !== undefined) options.seed = seed;
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  return { help: values.help === true, options };
}
