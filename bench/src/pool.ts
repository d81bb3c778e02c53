/**
 * bench/pool: what keeping HTTPS connections open buys, measured through the gateway.
 *
 * One gateway with the pool plugin calls the mock provider over TLS (the mock runs in a child process, with a
 * self-signed ECDSA P-256 certificate made for the run). Each call is `gateway.complete()`, either
 *   pooled  on the pool's kept-alive connection, or
 *   fresh   with `{ pool: { freshConnection: true } }`: a new TCP connection and a full TLS handshake per call
 *           (no resumed session), closed after the answer.
 * Two networks, in one run:
 *   loopback   straight to the mock;
 *   delayed    through a TCP proxy (in this process) that delays every byte by BENCH_POOL_DELAY_MS (20) in each
 *              direction, and holds a new connection's first bytes one extra round trip (the TCP handshake).
 * Modes alternate in blocks so that drift hits both alike. Prints p50 / p99 per call and the reduction.
 */

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { type ChatCompletionRequest, createGateway } from '@flowgate/core';
import { pool } from '@flowgate/plugin-pool';
import { openai } from '@flowgate/providers';
import { type ChildServer, mockProviderDir, startChildServer } from './lib/mock-process.js';
import { progress } from './lib/progress.js';
import { fmt, summarize, table } from './lib/stats.js';

export const about = 'pooled vs fresh TLS connection per call, on loopback and with a simulated 20 ms network delay';

const LOOPBACK_CALLS = Number(process.env.BENCH_POOL_CALLS ?? 1000);
const DELAYED_CALLS = Number(process.env.BENCH_POOL_DELAYED_CALLS ?? 100);
const DELAY_MS = Number(process.env.BENCH_POOL_DELAY_MS ?? 20);
const BLOCK = Number(process.env.BENCH_POOL_BLOCK ?? 10);
const WARMUP_CALLS = Number(process.env.BENCH_POOL_WARMUP ?? 50);

const request = (model: string): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
  max_tokens: 64,
});

interface ModeResult {
  samples: number[];
  connects: number;
}

export async function main(): Promise<void> {
  const tls = selfSignedCertificate();
  const mock = await startTlsMock(tls);
  const target = new URL(mock.url);
  const proxy = await startDelayProxy(target.hostname, Number(target.port), DELAY_MS);
  const protocol = await tlsProtocol(target.hostname, Number(target.port), tls.cert);
  const delayedUrl = `https://127.0.0.1:${proxy.port}`;

  const plugin = pool({ connect: { ca: tls.cert } });
  const gateway = createGateway({
    providers: [
      openai({ id: 'loopback', apiKey: 'bench', baseURL: `${mock.url}/v1`, models: ['loopback'] }),
      openai({ id: 'delayed', apiKey: 'bench', baseURL: `${delayedUrl}/v1`, models: ['delayed'] }),
    ],
    plugins: [plugin],
  });

  const networks: [string, string, string, number][] = [
    ['loopback', 'loopback', mock.url, LOOPBACK_CALLS],
    [`+${DELAY_MS} ms each way`, 'delayed', delayedUrl, DELAYED_CALLS],
  ];
  const rows: string[][] = [];
  const reductions: string[] = [];
  try {
    for (const [label, model, origin, calls] of networks) {
      const connects = () => plugin.stats()[origin]?.connects ?? 0;
      const modes: [string, () => Promise<unknown>][] = [
        ['pooled', () => gateway.complete(request(model))],
        ['fresh', () => gateway.complete(request(model), { pool: { freshConnection: true } })],
      ];
      // JIT, and the pooled connection itself.
      const warm = Math.min(WARMUP_CALLS, calls);
      for (const [, fn] of modes) for (let i = 0; i < warm; i++) await fn();

      const results: ModeResult[] = modes.map(() => ({ samples: [], connects: 0 }));
      const p = progress(`${label} (${calls} calls per mode)`);
      for (let done = 0; done < calls; done += BLOCK) {
        for (let m = 0; m < modes.length; m++) {
          const fn = modes[m]![1];
          const r = results[m]!;
          const before = connects();
          for (let i = 0; i < BLOCK && done + i < calls; i++) {
            const t0 = performance.now();
            await fn();
            r.samples.push(performance.now() - t0);
          }
          r.connects += connects() - before;
        }
        p.update(Math.min(done + BLOCK, calls), calls);
      }
      p.done();

      const [pooled, fresh] = results.map((r) => summarize(r.samples));
      for (let m = 0; m < modes.length; m++) {
        const s = summarize(results[m]!.samples);
        rows.push([label, modes[m]![0], fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.mean, 2), String(results[m]!.connects)]);
      }
      reductions.push(
        `  ${label}: p50 ${fmt(pct(pooled!.p50, fresh!.p50))}% (${fmt(fresh!.p50, 2)} -> ${fmt(pooled!.p50, 2)} ms), ` +
          `p99 ${fmt(pct(pooled!.p99, fresh!.p99))}% (${fmt(fresh!.p99, 2)} -> ${fmt(pooled!.p99, 2)} ms)`,
      );
    }
  } finally {
    await gateway.close();
    await proxy.close();
    await mock.stop();
  }

  console.log('\nbench/pool: gateway.complete() over TLS to the mock provider, pooled vs a fresh connection per call');
  console.log(
    `node ${process.version}; mock in a child process; self-signed ECDSA P-256 certificate; ${protocol}; ` +
      `delay proxy in this process; blocks of ${BLOCK} calls per mode, interleaved`,
  );
  console.log(`fresh = new TCP connection + full TLS handshake (no session resumption) per call, closed after it\n`);
  console.log(table(['network', 'mode', 'p50 ms', 'p99 ms', 'mean ms', 'connections opened'], rows));
  console.log('\nreduction of the time per call, pooled vs fresh:');
  for (const r of reductions) console.log(r);
  console.log('(the guide this project grows from claims 65%; the figures above are what this machine measured)');
}

const pct = (pooled: number, fresh: number) => (1 - pooled / fresh) * 100;

/** The TLS version Node negotiates with the mock (the handshake's round trips depend on it). */
function tlsProtocol(host: string, port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ca }, () => {
      resolve(socket.getProtocol() ?? 'unknown TLS');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

// ---- the mock provider over TLS, in a child process ------------------------------------------

const CHILD = `
const { startMockProvider } = await import(process.env.FLOWGATE_MOCK_ENTRY);
const mock = await startMockProvider({ port: 0, tls: { key: process.env.FLOWGATE_MOCK_KEY, cert: process.env.FLOWGATE_MOCK_CERT } });
process.stdout.write(mock.url + '\\n');
process.on('SIGTERM', () => mock.close().then(() => process.exit(0)));
`;

function startTlsMock(tls: { key: string; cert: string }): Promise<ChildServer> {
  return startChildServer(['--input-type=module', '-e', CHILD], {
    ...process.env,
    FLOWGATE_MOCK_ENTRY: pathToFileURL(join(mockProviderDir(), 'dist/index.js')).href,
    FLOWGATE_MOCK_KEY: tls.key,
    FLOWGATE_MOCK_CERT: tls.cert,
  });
}

// ---- a TCP proxy that adds network delay -----------------------------------------------------

/**
 * Forwards bytes both ways after `delayMs`, in order. A connection's first client bytes are held one more round
 * trip (2 x delayMs): on a real network the client may send only after the TCP handshake's SYN / SYN-ACK.
 */
async function startDelayProxy(
  host: string,
  port: number,
  delayMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const upstream = connect({ host, port, noDelay: true, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const toServer = delayed(upstream, delayMs, 2 * delayMs);
    const toClient = delayed(client, delayMs, 0);
    client.on('data', (d: Buffer) => toServer(d));
    client.on('end', () => toServer(null));
    upstream.on('data', (d: Buffer) => toClient(d));
    upstream.on('end', () => toClient(null));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A writer to `dst` that delivers each chunk (null = end) `delayMs` after it was given, never before `holdMs`. */
function delayed(dst: Socket, delayMs: number, holdMs: number): (data: Buffer | null) => void {
  const queue: { at: number; data: Buffer | null }[] = [];
  const readyAt = performance.now() + holdMs;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now + 0.1) {
      const { data } = queue.shift()!;
      if (dst.destroyed) return;
      if (data === null) dst.end();
      else dst.write(data);
    }
    if (queue.length > 0) {
      scheduled = true;
      setTimeout(pump, queue[0]!.at - now);
    }
  };
  return (data) => {
    queue.push({ at: Math.max(performance.now(), readyAt) + delayMs, data });
    if (!scheduled) {
      scheduled = true;
      setTimeout(pump, queue[0]!.at - performance.now());
    }
  };
}

// ---- a self-signed certificate (node:crypto signs; this writes the DER around it) -------------

function selfSignedCertificate(): { key: string; cert: string } {
  const der = (tag: number, ...parts: Buffer[]): Buffer => {
    const body = Buffer.concat(parts);
    const n = body.length;
    const len: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
    return Buffer.concat([Buffer.from(n < 0x80 ? [tag, n] : [tag, 0x80 | len.length, ...len]), body]);
  };
  const seq = (...p: Buffer[]) => der(0x30, ...p);
  const oid = (dotted: string) => {
    const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
    const out = [40 * a + b];
    for (const v of rest) {
      const chunk = [v & 0x7f];
      for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
      out.push(...chunk);
    }
    return der(0x06, Buffer.from(out));
  };
  const time = (d: Date) => der(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  const alg = seq(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const san = seq(
    oid('2.5.29.17'),
    der(0x04, seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])))),
  );
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    alg,
    name,
    seq(time(new Date(Date.now() - 60_000)), time(new Date(Date.now() + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(san, seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff])))))),
    ),
  );
  const cert = seq(tbs, alg, der(0x03, Buffer.from([0]), sign('sha256', tbs, privateKey)));
  const b64 = cert
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
  };
}
