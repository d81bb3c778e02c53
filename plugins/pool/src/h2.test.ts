/**
 * allowH2: against an HTTPS server that offers HTTP/2 and HTTP/1.1 through ALPN, calls multiplex on one
 * HTTP/2 connection when allowed, and use HTTP/1.1 connections otherwise (the default).
 */
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { chat } from './helpers.test-util.js';
import { type PoolOptions, pool } from './index.js';
import { selfSignedCertificate } from './self-signed.test-util.js';

const cert = selfSignedCertificate();
let server: Http2SecureServer | undefined;
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  gateway = undefined;
  server = undefined;
});

/** A tiny OpenAI-compatible server: every answer waits until `hold` requests arrived, so they overlap. */
async function start(hold: number) {
  const seen = { versions: [] as string[], tls: 0 };
  let waiting: (() => void)[] = [];
  server = createSecureServer(
    { key: cert.key, cert: cert.cert, allowHTTP1: true },
    (req: Http2ServerRequest, res: Http2ServerResponse) => {
      seen.versions.push(req.httpVersion);
      const answer = () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: `c${seen.versions.length}`,
            object: 'chat.completion',
            created: 1,
            model: 'm',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: `over HTTP/${req.httpVersion}` },
                finish_reason: 'stop',
              },
            ],
          }),
        );
      req.resume();
      req.on('end', () => {
        waiting.push(answer);
        if (waiting.length >= hold) {
          for (const a of waiting) a();
          waiting = [];
        }
      });
    },
  );
  server.on('secureConnection', () => seen.tls++);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function threeConcurrentCalls(options: PoolOptions) {
  const { url, seen } = await start(3);
  const plugin = pool({ connect: { ca: cert.cert }, ...options });
  gateway = createGateway({ providers: [openai({ apiKey: 'k', baseURL: `${url}/v1` })], plugins: [plugin] });
  const answers = await Promise.all([1, 2, 3].map((i) => gateway!.complete(chat(`h2 ${i}`))));
  return { answers: answers.map((a) => a.choices[0]!.message.content), seen, plugin, url };
}

describe('allowH2', () => {
  it('multiplexes concurrent calls on one HTTP/2 connection when allowed', async () => {
    const { answers, seen, plugin, url } = await threeConcurrentCalls({ allowH2: true });
    expect(answers).toEqual(['over HTTP/2.0', 'over HTTP/2.0', 'over HTTP/2.0']);
    expect(seen.tls).toBe(1);
    expect(plugin.stats()[url]).toMatchObject({ connected: 1, connects: 1 });
  });

  it('uses one HTTP/1.1 connection per concurrent call by default', async () => {
    const { answers, seen } = await threeConcurrentCalls({});
    expect(answers).toEqual(['over HTTP/1.1', 'over HTTP/1.1', 'over HTTP/1.1']);
    expect(seen.tls).toBe(3);
  });

  it('warms up a single HTTP/2 connection and says so', async () => {
    const { url, seen } = await start(1);
    const plugin = pool({ connect: { ca: cert.cert }, allowH2: true, warmUp: { connections: 4 } });
    gateway = createGateway({ providers: [openai({ apiKey: 'k', baseURL: `${url}/v1` })], plugins: [plugin] });
    await gateway.ready();
    expect((await plugin.warmUpReport()).origins).toEqual([
      { origin: url, requested: 4, opened: 1, failed: 0, open: 1, protocol: 'h2', errors: [] },
    ]);
    expect(seen.tls).toBe(1);
    expect(seen.versions).toEqual(['2.0', '2.0', '2.0', '2.0']);
  });
});
