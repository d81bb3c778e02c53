import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createHandler } from './handler.js';
import { MockState } from './state.js';
import { snapshot } from './stats.js';
import type { MockProvider, MockProviderOptions } from './types.js';

const DEFAULT_KEEP_ALIVE_MS = 65_000;

/** Start a mock OpenAI/Anthropic server; resolves once it is listening. */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const state = new MockState(options);
  const handler = createHandler(state);
  const server =
    options.tls === undefined
      ? createHttpServer({ noDelay: true }, handler)
      : createHttpsServer({ key: options.tls.key, cert: options.tls.cert, noDelay: true }, handler);

  const keepAlive = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS;
  server.keepAliveTimeout = keepAlive;
  server.headersTimeout = keepAlive + 1_000;
  // No overall request deadline: `hang` and `stall` must last until the client gives up.
  server.requestTimeout = 0;
  server.maxHeadersCount = 0;

  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    state.stats.connections++;
    state.stats.activeConnections++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      state.stats.activeConnections--;
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
    stats: () => snapshot(state.stats),
    configure: (model, behavior, configureOptions) =>
      state.configure(model, behavior, configureOptions?.replace === true),
    script: (model, faults) => state.script(model, faults),
    reset: () => state.reset(),
  };
}
