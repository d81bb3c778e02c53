import type { TLSSocket } from 'node:tls';
import type { ChatCompletionRequest } from '@flowgate/core';
import { type MockProvider, type MockProviderOptions, startMockProvider } from '@flowgate/mock-provider';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { vi } from 'vitest';
import { type SelfSigned, selfSignedCertificate } from './self-signed.test-util.js';

export const MODEL = 'gpt-4o-mini';

export function chat(text = 'hello there', model = MODEL): ChatCompletionRequest {
  return { model, messages: [{ role: 'user', content: text }] };
}

export interface HttpsMock {
  mock: MockProvider;
  cert: SelfSigned;
  /** TLS handshakes the server completed. */
  handshakes(): number;
  /** Handshakes that resumed an earlier TLS session. */
  resumed(): number;
}

let cert: SelfSigned | undefined;

/** The mock provider over HTTPS with a certificate made for this test run; counts TLS handshakes. */
export async function startHttpsMock(options: MockProviderOptions = {}): Promise<HttpsMock> {
  cert ??= selfSignedCertificate();
  const mock = await startMockProvider({ ...options, tls: { key: cert.key, cert: cert.cert } });
  let handshakes = 0;
  let resumed = 0;
  mock.server.on('secureConnection', (socket: TLSSocket) => {
    handshakes++;
    if (socket.isSessionReused()) resumed++;
  });
  return { mock, cert, handshakes: () => handshakes, resumed: () => resumed };
}

/** Waits for a condition that follows asynchronously (a socket closing on the other side). No timing asserted. */
export function until(condition: () => boolean, message: string): Promise<void> {
  return vi.waitFor(
    () => {
      if (!condition()) throw new Error(`still waiting: ${message}`);
    },
    { timeout: 5000, interval: 5 },
  );
}

/** Sockets this process holds open (client and server side alike). */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length;
}

export function events(span: ReadableSpan | undefined, name: string) {
  return span?.events.filter((e) => e.name === name) ?? [];
}

/** The data points of one metric, by name. */
export function points(metrics: ResourceMetrics, name: string) {
  for (const scope of metrics.scopeMetrics) {
    for (const m of scope.metrics) if (m.descriptor.name === name) return m.dataPoints;
  }
  return [];
}
