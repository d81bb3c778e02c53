/**
 * bench/server: the gateway server under HTTP load (autocannon), against its practical ceiling.
 *
 * In one run, each in its own child process (so that autocannon does not share their event loop):
 *   (a) mock      the mock provider directly (the upstream alone),
 *   (b) proxy     a minimal undici proxy: parse the JSON request, forward it, parse the answer, reply
 *                 (the practical ceiling of a Node gateway; written below),
 *   (b') the same proxy forwarding through `dispatch()` with a collecting handler instead of `request()`:
 *                 the transport flowgate's providers use for whole answers (the run prints ratios against both),
 *   (c) flowgate  `flowgate serve` on one worker with the installed default plugins, every request
 *                 different (cache misses),
 *   (d) hit       the same server, one request repeated (cache hits; skipped without the cache plugin).
 * At concurrency 32 and 256: throughput and p50/p99 latency, as a table with ratios against (b).
 * Target (issue 9): (c) >= 80% of (b) on one worker.
 *
 * Modes run in interleaved rounds (b, c, d, b, c, d, ...) and each row is the median round.
 * Knobs: BENCH_DURATION_S (default 4), BENCH_ROUNDS (default 3), BENCH_WARMUP_S (default 2), BENCH_CONCURRENCY (default "32,256"),
 * BENCH_PLUGINS (comma list, or `none`; default: every installed one of profiler, token-optimizer, cache,
 * router, pool), BENCH_MODES (letters to run, e.g. `c`; (b), the baseline of the ratios, always runs).
 * Besides throughput, it reads the CPU time each server process used (Linux /proc) and prints CPU per
 * request: on a shared machine that ratio is steadier than throughput, which neighbours disturb.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { postJsonByDispatch } from './lib/dispatch-json.js';
import { startMockProcess } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about = 'autocannon at c=32/256: mock, minimal undici proxy, flowgate serve (cache miss and hit)';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '32,256').split(',').map(Number);
const DEFAULT_PLUGINS = ['profiler', 'token-optimizer', 'cache', 'router', 'pool'];
const PLUGIN_PACKAGES: Record<string, [string, string]> = {
  router: ['@flowgate/plugin-router', 'router'],
  cache: ['@flowgate/plugin-cache', 'cache'],
  pool: ['@flowgate/plugin-pool', 'pool'],
  'token-optimizer': ['@flowgate/plugin-token-optimizer', 'tokenOptimizer'],
  profiler: ['@flowgate/plugin-profiler', 'profiler'],
  'semantic-cache': ['@flowgate/plugin-semantic-cache', 'semanticCache'],
};

/** The request every mode sends; `[<id>]` is replaced by a unique id per request on the miss path. */
const MISS_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is the capital of France? [<id>]' },
  ],
  max_tokens: 64,
});
const HIT_BODY = MISS_BODY.replace(' [<id>]', '');

// ---- autocannon, typed for what we use (the package ships no types) ------------------------------

interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
  requests?: { setupRequest(req: { body?: string }): { body?: string } }[];
}) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server process per answered request, in µs. */
  cpuUsPerRequest?: number;
}

async function load(
  url: string,
  body: string,
  unique: boolean,
  connections: number,
  seconds: number,
): Promise<Measured> {
  const latencies: number[] = [];
  const instance = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body,
    connections,
    duration: seconds,
    // autocannon's own `idReplacement` ids end in a ten-digit counter, which the cache's smart rules
    // rightly take for a phone number and skip: the "miss" path would measure skips. Letters only.
    ...(unique ? { requests: [{ setupRequest: (req) => ({ ...req, body: body.replace('[<id>]', nextId()) }) }] } : {}),
  });
  // autocannon's own histogram has 1 ms resolution; keep the exact times.
  instance.on('response', (_c, status, _b, ms) => {
    if (status === 200) latencies.push(ms);
  });
  const r = await instance;
  const s = summarize(latencies);
  return { rps: r.requests.average, p50: s.p50, p99: s.p99, errors: r.non2xx + r.errors + r.timeouts };
}

/** The round with the median throughput (its latency and CPU figures come with it). */
function medianRound(rounds: Measured[]): Measured {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The cache's own count of what it did, from the server's /metrics: proof that misses were misses. */
async function cacheResultCounts(base: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('flowgate_cache_requests_total{')) continue;
    const result = /flowgate_cache_result="([^"]+)"/.exec(line)?.[1];
    const reason = /flowgate_cache_reason="([^"]+)"/.exec(line)?.[1];
    counts.push(`${result}${reason ? ` (${reason})` : ''} ${line.slice(line.lastIndexOf(' ') + 1)}`);
  }
  return counts.length > 0 ? counts.join(', ') : 'none reported';
}

let idCount = 0;
/** `[x` + the count in letters + `]`: unique per request of the run, and no digits for a rule to match. */
function nextId(): string {
  let n = idCount++;
  let letters = '';
  do {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `[x${letters}]`;
}

/** CPU time (user + system) a process has used, in ms; undefined where /proc is missing. */
async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every mainstream Linux. */
const CLOCK_TICKS = 100;

// ---- child processes -----------------------------------------------------------------------------

/** Spawns a server process and resolves with the first http:// URL it prints. */
async function spawnServer(
  args: string[],
  env: Record<string, string> = {},
  pattern = /http:\/\/127\.0\.0\.1:\d+/,
): Promise<{ url: string; stop(): Promise<void>; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with code ${code}: ${stderr}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[0]);
    });
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Which plugins load here (the server child resolves the same packages). */
async function installedPlugins(wanted: string[]): Promise<{ installed: string[]; missing: string[] }> {
  const installed: string[] = [];
  const missing: string[] = [];
  for (const name of wanted) {
    const entry = PLUGIN_PACKAGES[name];
    if (!entry) {
      missing.push(`${name} (unknown)`);
      continue;
    }
    try {
      const mod = (await import(entry[0])) as Record<string, unknown>;
      if (typeof mod[entry[1]] === 'function') installed.push(name);
      else missing.push(`${name} (no ${entry[1]} export yet)`);
    } catch {
      missing.push(`${name} (not installed)`);
    }
  }
  return { installed, missing };
}

// ---- (b) the minimal undici proxy, run as a child: FLOWGATE_BENCH_PROXY_UPSTREAM=url node server.js

/** Parse, forward, parse the answer, reply: the least a gateway that understands the payload can do. */
async function runProxy(upstream: string, byDispatch: boolean): Promise<void> {
  const agent = new Agent({ keepAliveTimeout: 60_000 });
  const target = new URL(`${upstream}/v1/chat/completions`);
  const server = createServer(
    { noDelay: true, keepAliveTimeout: 65_000 },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          let status: number;
          let parsed: unknown;
          if (byDispatch) {
            ({ status, json: parsed } = await postJsonByDispatch(agent, target, JSON.stringify(body)));
          } else {
            const up = await agent.request({
              origin: target.origin,
              path: target.pathname,
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            status = up.statusCode;
            parsed = await up.body.json();
          }
          const answer = JSON.stringify(parsed);
          res.writeHead(status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(answer),
          });
          res.end(answer);
        } catch (err) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err) } }));
        }
      });
    },
  );
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    process.stdout.write(`proxy listening on http://127.0.0.1:${a.port}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void agent.close().then(() => process.exit(0));
  });
}

const self = fileURLToPath(import.meta.url);
if (process.env.FLOWGATE_BENCH_PROXY_UPSTREAM && process.argv[1] === self) {
  await runProxy(process.env.FLOWGATE_BENCH_PROXY_UPSTREAM, process.env.FLOWGATE_BENCH_PROXY_DISPATCH === '1');
}

// ---- the run -------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  const wanted =
    process.env.BENCH_PLUGINS === undefined
      ? DEFAULT_PLUGINS
      : process.env.BENCH_PLUGINS.split(',').filter((n) => n && n !== 'none');
  const { installed, missing } = await installedPlugins(wanted);
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@flowgate/server/package.json')), 'dist/cli.js');
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-bench-'));

  const mock = await startMockProcess();
  const proxy = await spawnServer([self], { FLOWGATE_BENCH_PROXY_UPSTREAM: mock.url });
  const dispatchProxy = await spawnServer([self], {
    FLOWGATE_BENCH_PROXY_UPSTREAM: mock.url,
    FLOWGATE_BENCH_PROXY_DISPATCH: '1',
  });
  const configFile = join(dir, 'flowgate.config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      providers: [{ id: 'mock', type: 'openai', baseURL: `${mock.url}/v1` }],
      // As `flowgate serve` runs by default: Prometheus metrics on, no trace exporter configured.
      telemetry: { traces: false, metrics: true },
      limits: { maxConcurrent: 4096 },
      plugins: installed.map((name) => ({ name })),
    }),
  );
  const gateway = await spawnServer([cli, 'serve', '--config', configFile, '--port', '0']);

  const modes: { name: string; url: string; body: string; unique: boolean; pid?: number }[] = [
    { name: '(a) mock', url: `${mock.url}/v1/chat/completions`, body: MISS_BODY, unique: true },
    {
      name: '(b) undici proxy',
      url: `${proxy.url}/v1/chat/completions`,
      body: MISS_BODY,
      unique: true,
      ...(proxy.child.pid !== undefined ? { pid: proxy.child.pid } : {}),
    },
    {
      name: "(b') proxy, dispatch()",
      url: `${dispatchProxy.url}/v1/chat/completions`,
      body: MISS_BODY,
      unique: true,
      ...(dispatchProxy.child.pid !== undefined ? { pid: dispatchProxy.child.pid } : {}),
    },
    {
      name: '(c) flowgate, miss',
      url: `${gateway.url}/v1/chat/completions`,
      body: MISS_BODY,
      unique: true,
      ...(gateway.child.pid !== undefined ? { pid: gateway.child.pid } : {}),
    },
  ];
  const cacheOn = installed.includes('cache');
  if (cacheOn) {
    modes.push({
      name: '(d) flowgate, hit',
      url: `${gateway.url}/v1/chat/completions`,
      body: HIT_BODY,
      unique: false,
      ...(gateway.child.pid !== undefined ? { pid: gateway.child.pid } : {}),
    });
  }

  const only = process.env.BENCH_MODES?.split(',').map((l) => `(${l.trim()})`);
  if (only)
    modes.splice(
      0,
      modes.length,
      ...modes.filter((m) => m.name.startsWith('(b)') || only.some((l) => m.name.startsWith(l))),
    );
  const results = new Map<string, Measured>();
  let cacheResults: string | undefined;
  const total = CONCURRENCY.length * modes.length * ROUNDS;
  const p = progress(`autocannon ${ROUNDS} x ${DURATION_S}s per mode`);
  let done = 0;
  try {
    for (const c of CONCURRENCY) {
      // Warm-up: JIT, connections, the cache entry for the hit path.
      if (WARMUP_S > 0) for (const m of modes) await load(m.url, m.body, m.unique, c, WARMUP_S);
      // Interleaved rounds: three processes share two cores here, so one window per mode can land on
      // a lucky or an unlucky spell of scheduling; the median of rounds taken in turn cannot.
      const rounds = new Map<string, Measured[]>(modes.map((m) => [m.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const m of modes) {
          const cpuBefore = await cpuMs(m.pid);
          const r = await load(m.url, m.body, m.unique, c, DURATION_S);
          const cpuAfter = await cpuMs(m.pid);
          if (cpuBefore !== undefined && cpuAfter !== undefined && r.rps > 0) {
            r.cpuUsPerRequest = ((cpuAfter - cpuBefore) * 1000) / (r.rps * DURATION_S);
          }
          rounds.get(m.name)!.push(r);
          p.update(++done, total);
        }
      }
      for (const m of modes) results.set(`${m.name}@${c}`, medianRound(rounds.get(m.name)!));
    }
    if (cacheOn) cacheResults = await cacheResultCounts(gateway.url);
    p.done();
  } finally {
    await gateway.stop();
    await proxy.stop();
    await dispatchProxy.stop();
    await mock.stop();
    await rm(dir, { recursive: true, force: true });
  }

  console.log(
    `\nbench/server: autocannon, median of ${ROUNDS} interleaved rounds of ${DURATION_S} s per mode after ${WARMUP_S} s of warm-up; node ${process.version}`,
  );
  console.log('every server in its own child process; the miss path sends a different question each time');
  console.log(`flowgate plugins: ${installed.length > 0 ? installed.join(', ') : 'none'}`);
  if (missing.length > 0) console.log(`not loaded: ${missing.join(', ')}`);
  if (!cacheOn) {
    const why = wanted.includes('cache') ? 'the cache plugin is not installed' : 'BENCH_PLUGINS leaves the cache out';
    console.log(`(d) skipped: ${why}, so there is no hit path to measure`);
  }
  if (cacheResults !== undefined) console.log(`cache results seen by the server (all modes): ${cacheResults}`);
  console.log('');
  const rows: string[][] = [];
  for (const c of CONCURRENCY) {
    const base = results.get(`(b) undici proxy@${c}`)!;
    for (const m of modes) {
      const r = results.get(`${m.name}@${c}`)!;
      const cpu = r.cpuUsPerRequest;
      rows.push([
        m.name,
        String(c),
        fmt(r.rps, 0),
        `${fmt((r.rps / base.rps) * 100)}%`,
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        cpu === undefined ? '-' : fmt(cpu, 0),
        cpu === undefined || base.cpuUsPerRequest === undefined ? '-' : `${fmt((base.cpuUsPerRequest / cpu) * 100)}%`,
        String(r.errors),
      ]);
    }
  }
  console.log(
    table(['mode', 'conc.', 'req/s', 'vs (b)', 'p50 ms', 'p99 ms', 'CPU us/req', '(b) CPU / this', 'errors'], rows),
  );
  console.log('\ntarget: (c) >= 80% of (b) on one worker (throughput; CPU per request as the steadier cross-check)');
  // flowgate's providers read whole answers through dispatch(): the same ratios against (b'), the proxy that does too.
  for (const [base, label] of [
    ['(b) undici proxy', ''],
    ["(b') proxy, dispatch()", "against (b'), "],
  ] as const) {
    for (const c of CONCURRENCY) {
      const b = results.get(`${base}@${c}`);
      const cRes = results.get(`(c) flowgate, miss@${c}`);
      if (!b || !cRes) continue;
      const ratio = cRes.rps / b.rps;
      const verdict = label === '' ? (ratio >= 0.8 ? ' (met)' : ' (not met)') : '';
      const cpu =
        b.cpuUsPerRequest !== undefined && cRes.cpuUsPerRequest !== undefined
          ? `, CPU per request ${fmt((b.cpuUsPerRequest / cRes.cpuUsPerRequest) * 100)}% of ${base.slice(0, base.indexOf(' '))}'s efficiency`
          : '';
      console.log(`  ${label}c=${c}: throughput ${fmt(ratio * 100)}%${verdict}${cpu}`);
    }
  }
}
