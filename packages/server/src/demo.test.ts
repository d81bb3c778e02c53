import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, startDemo } from './demo.js';
import { client } from './server.test-util.js';

let demo: Demo;
const lines: string[] = [];

beforeAll(async () => {
  // A plugin list of our own: the real plugins are tried by default, but this test must not depend on them.
  demo = await startDemo({
    port: 0,
    log: (l) => lines.push(l),
    env: {},
    plugins: ['ghost'],
    registry: { ghost: { module: '@flowgate/plugin-ghost', export: 'ghost' } },
  });
});
afterAll(() => demo.close());

describe('startDemo', () => {
  it('prints the URL, example curls, and the metrics and admin URLs, saying which plugins it skipped', () => {
    const text = lines.join('\n');
    expect(text).toContain(`API       ${demo.url}/v1`);
    expect(text).toContain(`curl -s ${demo.url}/v1/chat/completions`);
    expect(text).toContain(`metrics   ${demo.url}/metrics`);
    expect(text).toContain(`admin     ${demo.url}/admin/performance`);
    expect(text).toContain('skipped   ghost: "@flowgate/plugin-ghost" is not installed');
    expect(text).toMatch(/stop: Ctrl\+C/);
    expect(demo.skipped).toEqual([{ name: 'ghost', reason: expect.stringMatching(/not installed/) }]);
  });

  it('answers the official client, streams the alias, and serves metrics and the admin page', async () => {
    const openai = client(demo, 'any-key');
    const res = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What is flowgate?' }],
    });
    expect(res.choices[0]?.message.content).toBe('Mock answer to: What is flowgate?');
    const stream = await openai.chat.completions.create({
      model: 'smart',
      stream: true,
      messages: [{ role: 'user', content: 'Count to five' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Mock answer to: Count to five');

    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    expect(models).toEqual(['smart', 'gpt-4o', 'gpt-4o-mini']);

    const metrics = await fetch(`${demo.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('gen_ai_client_operation_duration');
    const admin = (await (await fetch(`${demo.url}/admin/performance`)).json()) as {
      latency: { chat: { count: number } };
      plugins: Record<string, unknown>;
    };
    expect(admin.latency.chat.count).toBe(2);
    expect(admin.plugins['alias-router']).toEqual({ smart: ['mock/gpt-4o', 'mock/gpt-4o-mini'] });
  });
});
