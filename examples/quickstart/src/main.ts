/**
 * `npm start`: the telemetry bootstrap, a gateway with every plugin on the built-in mock provider,
 * the OpenAI-compatible server in front of it, a scripted workload with its summary, then the
 * server keeps running (dashboard, metrics, admin) until Ctrl+C. `--once` exits after the summary.
 */
import { startTelemetry } from '@flowgate/telemetry';
import { workloadAndSummary } from './demo.js';
import { banner, serveDemo } from './serve.js';
import { setUpDemo } from './setup.js';

const env = process.env;
const once = process.argv.includes('--once') || env.FLOWGATE_DEMO_ONCE === '1';

// Telemetry first: the gateway reads the meter provider when it is created. Traces go out over OTLP
// only when a collector is configured.
const otlp = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
const telemetry = startTelemetry({
  serviceName: 'flowgate-quickstart',
  traces: otlp ? {} : false,
  metrics: { prometheus: { mount: true } },
});
const setup = await setUpDemo(env);
const { server, url } = await serveDemo(setup, telemetry, env);

const result = await workloadAndSummary(setup, console.log);
for (const line of banner(url, setup.models[0] ?? 'gpt-4o-mini')) console.log(line);

const stop = async () => {
  await server.close(); // drains, then closes the gateway, the mocks and telemetry
  process.exit(result.errors === 0 ? 0 : 1);
};
if (once) await stop();
else {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
