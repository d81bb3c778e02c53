/**
 * Routes calls of three tenants (premium, standard, batch) at peak and off-peak hours over three deployments
 * on the mock provider, then takes the premium deployment down to show the fallback and the breaker.
 *
 *   npx tsc -b examples/custom-router && node examples/custom-router/dist/main.js
 */
import { type CallOptions, createGateway } from '@flowgate/core';
import { startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { tierRouting } from './tier-router.js';

const mock = await startMockProvider({
  models: {
    'gpt-premium': { text: 'premium answer' },
    'gpt-standard': { text: 'standard answer' },
    'llama-economy': { text: 'economy answer', latencyMs: 5 },
  },
});

let now = new Date(2025, 0, 15, 14, 0); // a Wednesday, 14:00: peak hours
const routing = tierRouting({
  tenants: { acme: 'premium', globex: 'standard', initech: 'batch' },
  peak: { from: 8, to: 20 },
  now: () => now,
  models: {
    assistant: [
      { provider: 'openai', model: 'gpt-premium', tags: ['premium'] },
      { provider: 'openai', model: 'gpt-standard', tags: ['standard'], weight: 2 },
      { provider: 'self-hosted', model: 'llama-economy', tags: ['economy'] },
    ],
  },
  breaker: { volumeThreshold: 3, errorThresholdPercentage: 25, resetTimeoutMs: 60_000 },
  retry: { maxRetries: 1 },
});
const gateway = createGateway({
  providers: [
    openai({ id: 'openai', baseURL: `${mock.url}/v1`, apiKey: 'sk-demo' }),
    openai({ id: 'self-hosted', baseURL: `${mock.url}/v1` }),
  ],
  plugins: [routing],
});

async function ask(tenant: string, options: CallOptions = {}): Promise<string> {
  const res = await gateway.complete(
    { model: 'assistant', messages: [{ role: 'user', content: 'Summarize our Q3 numbers' }] },
    { ...options, metadata: { tenant } },
  );
  const tried = res.flowgate.router?.attempts.map((a) => `${a.model}:${a.outcome}`).join(' -> ') ?? '';
  return `${res.model}${tried.includes('error') ? `  (${tried})` : ''}`;
}

async function round(label: string): Promise<void> {
  console.log(`\n${label}`);
  for (const tenant of ['acme', 'globex', 'initech']) {
    const served: Record<string, number> = {};
    for (let i = 0; i < 6; i++) {
      const model = await ask(tenant);
      served[model] = (served[model] ?? 0) + 1;
    }
    const summary = Object.entries(served)
      .map(([m, n]) => `${m} x${n}`)
      .join(', ');
    console.log(`  ${tenant.padEnd(8)} -> ${summary}`);
  }
}

await round('14:00, peak hours (acme premium, globex standard, initech batch):');
now = new Date(2025, 0, 15, 23, 0);
await round('23:00, off peak: standard may use idle premium capacity, batch shares standard:');

now = new Date(2025, 0, 15, 14, 0);
console.log(
  '\nA call can override its tier (CallOptions augmentation): globex as batch ->',
  await ask('globex', { tier: 'batch' }),
);

console.log('\nThe premium deployment goes down (503 on every call):');
mock.configure('gpt-premium', { faults: [{ fault: { type: 'status', status: 503 }, rate: 1 }] });
for (let i = 0; i < 7; i++) console.log(`  acme -> ${await ask('acme')}`);
console.log('\nDeployments:');
for (const d of routing.deployments()) {
  console.log(`  ${d.key.padEnd(26)} breaker ${d.breaker.padEnd(9)} ok ${d.successes}  failed ${d.failures}`);
}

await gateway.close();
await mock.close();
