/**
 * `/metrics` with the telemetry on: the Prometheus exposition after real traffic, checked by
 * `promtool check metrics` (Debian's prometheus package; CI installs it, locally the test skips
 * with a note when it is missing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { MockProvider } from '@flowgate/mock-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, startUpstream } from './server.test-util.js';
import type { RunningServer } from './start.js';

function findPromtool(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const promtool = findPromtool();
if (!promtool) {
  console.warn('[metrics.test] promtool not found (apt-get install prometheus): skipping `promtool check metrics`');
}

let mock: MockProvider;
let server: RunningServer;
let exposition = '';

beforeAll(async () => {
  mock = await startUpstream();
  server = await startTestServer(mock, {
    telemetry: { serviceName: 'flowgate-test', traces: false, metrics: true },
  });
  const openai = client(server);
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'stream please' }],
    stream: true,
  });
  for await (const _ of stream) {
    // read to the end
  }
  mock.script('broken', [{ type: 'status', status: 500 }]);
  await openai.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'x' }] }).catch(() => {});
  await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'a b c' });
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  exposition = await res.text();
});
afterAll(async () => {
  // Also shuts the telemetry down (flush, then the global API is reset for the next test file).
  await server.close();
  await mock.close();
});

describe('/metrics', () => {
  it('exposes the GenAI and server metrics after traffic', () => {
    expect(exposition).toContain('# TYPE gen_ai_client_operation_duration histogram');
    expect(exposition).toContain('gen_ai_client_token_usage_bucket');
    expect(exposition).toMatch(
      /flowgate_server_requests_total\{[^}]*http_route="\/v1\/chat\/completions"[^}]*http_response_status_code="200"[^}]*\} 2/,
    );
    expect(exposition).toMatch(/flowgate_server_requests_total\{[^}]*http_response_status_code="502"[^}]*\} 1/);
    expect(exposition).toMatch(/flowgate_server_active_requests\{[^}]*\} 0/);
    expect(exposition).toContain('service_name="flowgate-test"');
  });

  // Why skip: promtool (Debian's prometheus package) is not installed here; CI installs it.
  it.skipIf(!promtool)('passes promtool check metrics', () => {
    const r = spawnSync(promtool!, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });
});
