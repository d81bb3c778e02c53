import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from './telemetry.js';

/** A minimal OTLP/HTTP receiver: records what reaches /v1/traces. */
async function otlpReceiver(): Promise<{
  url: string;
  bodies: { contentType: string; size: number; text: string }[];
  close(): Promise<void>;
}> {
  const bodies: { contentType: string; size: number; text: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = Buffer.concat(parts);
        bodies.push({
          contentType: String(req.headers['content-type']),
          size: body.length,
          text: body.toString('latin1'),
        });
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

describe('startTelemetry', () => {
  it('exports spans over OTLP/HTTP protobuf and flushes them on shutdown', async () => {
    const receiver = await otlpReceiver();
    try {
      telemetry = startTelemetry({
        serviceName: 'flowgate-test',
        traces: { endpoint: receiver.url },
        metrics: false,
        env: {},
      });
      trace.getTracer('t').startSpan('chat gpt-test').end();
      await telemetry.shutdown();
      expect(receiver.bodies).toHaveLength(1);
      expect(receiver.bodies[0]?.contentType).toBe('application/x-protobuf');
      // protobuf carries strings verbatim: the span name and the service name are in the payload.
      expect(receiver.bodies[0]?.text).toContain('chat gpt-test');
      expect(receiver.bodies[0]?.text).toContain('flowgate-test');
    } finally {
      await receiver.close();
    }
  });

  it('serves Prometheus metrics through a handler to mount on /metrics', async () => {
    telemetry = startTelemetry({ traces: false, metrics: { prometheus: { mount: true } }, env: {} });
    metrics.getMeter('t').createCounter('flowgate.test.calls', { unit: '{call}' }).add(3, { outcome: 'ok' });
    const handler = telemetry.metricsHandler!;
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/flowgate_test_calls(_total)?\{[^}]*outcome="ok"[^}]*\} 3/);
      expect(text).toContain('target_info');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('serves Prometheus on its own port', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    telemetry = startTelemetry({ traces: false, metrics: { prometheus: { port, host: '127.0.0.1' } }, env: {} });
    metrics.getMeter('t').createCounter('flowgate.test.own_port').add(1);
    expect(telemetry.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    let text = '';
    for (let i = 0; i < 50 && !text; i++) {
      text = await fetch(telemetry.metricsUrl!).then(
        (r) => r.text(),
        () => new Promise<string>((r) => setTimeout(() => r(''), 20)),
      );
    }
    expect(text).toContain('flowgate_test_own_port');
  });

  it('starts nothing when OTEL_SDK_DISABLED=true', async () => {
    telemetry = startTelemetry({ env: { OTEL_SDK_DISABLED: 'true' } });
    expect(telemetry.disabled).toBe(true);
    expect(telemetry.metricsHandler).toBeUndefined();
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
  });

  it('leaves the global API clean after shutdown', async () => {
    telemetry = startTelemetry({
      traces: { exporter: { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} } },
      metrics: false,
      env: {},
    });
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(true);
    await telemetry.shutdown();
    await telemetry.shutdown();
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
  });
});
