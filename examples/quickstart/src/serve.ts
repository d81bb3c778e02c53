import { createServer, type FlowgateServer } from '@flowgate/server';
import type { Telemetry } from '@flowgate/telemetry';
import type { DemoSetup } from './setup.js';

/** Puts the demo's gateway behind the OpenAI-compatible server: 8080 (or PORT), else any free port. */
export async function serveDemo(
  setup: DemoSetup,
  telemetry: Telemetry,
  env: Record<string, string | undefined>,
): Promise<{ server: FlowgateServer; url: string }> {
  const server = createServer({
    gateway: setup.gateway,
    plugins: Object.values(setup.plugins),
    metricsHandler: telemetry.metricsHandler,
    models: setup.models.map((id) => ({ id, owned_by: 'flowgate' })),
    onClose: async () => {
      await setup.close();
      await telemetry.shutdown();
    },
  });
  const wanted = env.PORT ? Number(env.PORT) : 8080;
  let url: string;
  try {
    url = await server.listen(wanted, '127.0.0.1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    url = await server.listen(0, '127.0.0.1');
  }
  return { server, url };
}

/** How to reach the running server. */
export function banner(url: string, model: string): string[] {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'What is flowgate?' }] });
  return [
    '',
    `gateway server   ${url}/v1   (OpenAI-compatible; open: no API key needed)`,
    `  try it         curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d '${body}'`,
    `  dashboard      ${url}/dashboard`,
    `  metrics        ${url}/metrics`,
    `  admin          ${url}/admin/performance`,
    '  stop           Ctrl+C (finishes the requests in flight, then exits)',
  ];
}
