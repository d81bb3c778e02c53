/**
 * The README's traces step: with OTEL_EXPORTER_OTLP_ENDPOINT set to Jaeger's OTLP/HTTP address, the
 * example gateway sends each call's spans there (HTTP/protobuf on /v1/traces, what Jaeger v2 takes
 * on port 4318). A small receiver stands in for Jaeger.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chat, startExampleGateway } from './gateway.test-util.js';

let receiver: Server;
let endpoint = '';
const received: { path: string; contentType: string; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        // protobuf carries strings verbatim: names and attribute values can be searched in it.
        body: Buffer.concat(parts).toString('latin1'),
      });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('traces of the example gateway', () => {
  it('go over OTLP/HTTP to the endpoint of OTEL_EXPORTER_OTLP_ENDPOINT, with the fallback visible', async () => {
    // The exporter reads the process environment, the config validation the env it is given.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', endpoint);
    const gateway = await startExampleGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    try {
      expect(await chat(gateway.url, 'Where do traces go?', { model: 'smart' })).toBe(200);
    } finally {
      await gateway.close(); // flushes the spans
    }
    expect(received.length).toBeGreaterThan(0);
    for (const r of received) {
      expect(r.path).toBe('/v1/traces');
      expect(r.contentType).toBe('application/x-protobuf');
    }
    const all = received.map((r) => r.body).join('');
    // The call span, the failed attempt on `flaky`, the fallback to `primary`, the cache lookups.
    for (const text of [
      'chat smart',
      'attempt flaky',
      'attempt primary',
      'cache lookup',
      'semantic_cache lookup',
      'flowgate.router.fallback',
    ]) {
      expect(all).toContain(text);
    }
    expect(all).toContain('FLOWGATE_ERR_UPSTREAM_SERVER');
    // service.name of flowgate.config.json (protobuf: the key, a few framing bytes, the value).
    expect(all).toMatch(/service\.name[\s\S]{1,6}flowgate/);
  });
});
