import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, ErrorCode } from '@flowgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowgateConfig } from './config.js';
import { canImportTypeScript, findConfigFile, loadConfigFile } from './config-load.js';
import { validateConfig } from './config-validate.js';
import { InvalidConfigError } from './errors.js';
import { PLUGIN_REGISTRY } from './plugin-registry.js';
import { modelFilter } from './runtime.js';
import { prepareConfig } from './start.js';

let dir: string;
const env = { OPENAI_API_KEY: 'sk-test', GW_KEY: 'sk-gw' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-config-'));
  // A plugin package stand-in: a factory that records the options it was given.
  await writeFile(
    join(dir, 'fake-plugin.mjs'),
    `export const calls = [];
export function fake(options) { calls.push(options); return { name: 'fake', setup() {} }; }
export function broken() { throw new Error('option "size" must be positive'); }
export function notAPlugin() { return 42; }
export function router(options) { calls.push(options); return { name: 'router', setup() {} }; }
`,
  );
  await writeFile(join(dir, 'throws-on-load.mjs'), `throw new Error('boom at import');\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const provider = { id: 'openai', type: 'openai', apiKeyEnv: 'OPENAI_API_KEY' } as const;

function issuesOf(raw: unknown, e: Record<string, string | undefined> = env): { path: string; message: string }[] {
  try {
    validateConfig(raw, { env: e, registry: PLUGIN_REGISTRY });
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ErrorCode.CONFIG);
    return [...(err as InvalidConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

describe('validateConfig', () => {
  it('accepts a full config and fills defaults', () => {
    const c = validateConfig(
      {
        providers: [provider, { id: 'local', type: 'mock', mock: { ttftMs: 5 } }],
        aliases: { smart: [{ provider: 'openai', model: 'gpt-4o', weight: 2 }] },
        keys: [
          { keyEnv: 'GW_KEY', tenant: 'acme' },
          { key: 'sk-literal', tenant: 'beta' },
        ],
        limits: { maxConcurrent: 10 },
        plugins: [{ name: 'cache', options: { ttl: 60 } }],
      },
      { env, registry: PLUGIN_REGISTRY },
    );
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.providers[0]?.apiKey).toBe('sk-test');
    expect(c.keys).toEqual(
      new Map([
        ['sk-gw', 'acme'],
        ['sk-literal', 'beta'],
      ]),
    );
    expect(c.limits).toEqual({
      maxBodyBytes: 4 * 1024 * 1024,
      maxConcurrent: 10,
      requestTimeoutMs: 600_000,
      drainTimeoutMs: 30_000,
    });
    expect(c.telemetry).toEqual({ traces: false, metrics: true });
    expect(c.plugins).toEqual([
      {
        kind: 'load',
        path: 'plugins[0]',
        name: 'cache',
        source: { module: '@flowgate/plugin-cache', export: 'cache' },
        options: { ttl: 60 },
      },
    ]);
  });

  it('turns traces on when an OTLP endpoint is in the environment', () => {
    const c = validateConfig(
      { providers: [provider] },
      { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, registry: PLUGIN_REGISTRY },
    );
    expect(c.telemetry).toEqual({ traces: {}, metrics: true });
  });

  it('names an unknown plugin, with the known ones', () => {
    const [issue] = issuesOf({ providers: [provider], plugins: [{ name: 'fake-plugin' }] });
    expect(issue?.path).toBe('plugins[0].name');
    expect(issue?.message).toMatch(/unknown plugin "fake-plugin"/);
    expect(issue?.message).toContain('router, cache, pool');
    expect(issuesOf({ providers: [provider], plugins: [{ name: 'cahce' }] })[0]?.message).toMatch(
      /did you mean "cache"/,
    );
  });

  it('names a missing key environment variable', () => {
    const [issue] = issuesOf({ providers: [provider] }, {});
    expect(issue).toEqual({
      path: 'providers[0].apiKeyEnv',
      message: "environment variable OPENAI_API_KEY is not set (it holds this provider's API key)",
    });
    expect(issuesOf({ providers: [provider], keys: [{ keyEnv: 'NOPE_KEY', tenant: 't' }] })[0]?.path).toBe(
      'keys[0].keyEnv',
    );
  });

  it('names a bad URL and an unknown provider type', () => {
    const issues = issuesOf({
      providers: [
        { id: 'a', type: 'openai', baseURL: 'not a url' },
        { id: 'b', type: 'openia' },
        { id: 'c', type: 'openai', baseURL: 'ftp://example.com' },
        { id: 'd', type: 'openai', baseURL: 'https://user:pw@example.com' },
      ],
    });
    expect(issues.map((i) => i.path)).toEqual([
      'providers[0].baseURL',
      'providers[1].type',
      'providers[2].baseURL',
      'providers[3].baseURL',
    ]);
    expect(issues[0]?.message).toBe('is not a valid URL: "not a url"');
    expect(issues[1]?.message).toMatch(
      /unknown provider type "openia" \(expected one of openai, anthropic, mock\) \(did you mean "openai"\?\)/,
    );
  });

  it('reports wrong types, unknown fields and inline secrets, all at once', () => {
    const issues = issuesOf({
      port: 'eighty',
      provders: [],
      providers: [
        { id: 'x', type: 'openai', apiKey: 'sk-inline', headers: { Authorization: 'Bearer x' }, models: 'gpt-4o' },
      ],
      aliases: { smart: [{ provider: 'ghost', model: 'm' }], empty: [] },
      keys: [{ key: 'k', keyEnv: 'GW_KEY', tenant: 't' }, { tenant: 'no key' }],
      limits: { maxConcurrent: 0, maxBodyBytes: 1.5, timeout: 5 },
      telemetry: { metrics: 'yes' },
      plugins: { name: 'cache' },
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath).toMatchObject({
      provders: 'unknown field (did you mean "providers"?)',
      port: 'must be an integer from 0 to 65535, got "eighty"',
      'providers[0].apiKey': expect.stringMatching(/environment variables only/),
      'providers[0].headers.Authorization': expect.stringMatching(/apiKeyEnv/),
      'providers[0].models': 'must be an array of non-empty strings',
      'aliases.smart[0].provider': 'unknown provider "ghost"',
      'aliases.empty': expect.stringMatching(/non-empty array/),
      'keys[0]': expect.stringMatching(/exactly one of `keyEnv`/),
      'keys[1]': expect.stringMatching(/exactly one of `keyEnv`/),
      'limits.maxConcurrent': expect.stringMatching(/integer from 1/),
      'limits.maxBodyBytes': expect.stringMatching(/integer from 1/),
      'limits.timeout': expect.stringMatching(/unknown field/),
      'telemetry.metrics': 'must be true or false, got "yes"',
      plugins: expect.stringMatching(/must be an array/),
    });
  });

  it('refuses duplicate ids and plugins, and a config that is not an object', () => {
    expect(issuesOf({ providers: [provider, provider] }).map((i) => i.message)).toEqual([
      'duplicate provider id "openai"',
    ]);
    expect(issuesOf({ providers: [provider], plugins: [{ name: 'cache' }, { name: 'cache' }] })[0]?.message).toMatch(
      /listed twice/,
    );
    expect(issuesOf([])[0]?.message).toBe('must be an object, got an array');
    expect(issuesOf({})[0]?.path).toBe('providers');
  });

  it('the error message lists every problem with its path', () => {
    try {
      validateConfig(
        { providers: [{ id: 'a', type: 'nope' }], port: -1 },
        { env, registry: PLUGIN_REGISTRY, source: 'x.json' },
      );
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe(
        'invalid flowgate configuration in x.json:\n' +
          '  port: must be an integer from 0 to 65535, got number\n' +
          '  providers[0].type: unknown provider type "nope" (expected one of openai, anthropic, mock)',
      );
      expect((err as InvalidConfigError).path).toBe('port');
    }
  });
});

describe('plugin loading', () => {
  const prepare = (config: FlowgateConfig | Record<string, unknown>) =>
    prepareConfig({ config, env }).catch((e: unknown) => e as InvalidConfigError);

  it('a package that is not installed is a config error before anything starts', async () => {
    const err = await prepare({ providers: [provider], plugins: [{ name: 'x', module: '@flowgate/no-such-plugin' }] });
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).path).toBe('plugins[0].name');
    expect((err as Error).message).toMatch(
      /"@flowgate\/no-such-plugin" is not installed \(npm install @flowgate\/no-such-plugin\)/,
    );
  });

  it('a module that throws on import, or lacks the export, is a config error', async () => {
    const file = pathToFileURL(join(dir, 'throws-on-load.mjs')).pathname;
    const thrown = await prepare({ providers: [provider], plugins: [{ name: 'x', module: file }] });
    expect((thrown as Error).message).toMatch(/failed to load: boom at import/);
    const missing = await prepare({
      providers: [provider],
      plugins: [{ name: 'x', module: join(dir, 'fake-plugin.mjs'), export: 'nothing' }],
    });
    expect((missing as Error).message).toMatch(/has no factory export "nothing"/);
  });

  it('loads a factory by module path and export, and passes its options', async () => {
    const prepared = await prepareConfig({
      config: {
        providers: [provider],
        plugins: [{ name: 'fake', module: join(dir, 'fake-plugin.mjs'), export: 'fake', options: { size: 3 } }],
      },
      env,
    });
    expect(prepared.plugins).toHaveLength(1);
    const p = prepared.plugins[0]!;
    expect(p.kind === 'factory' && p.factory({ size: 3 })).toMatchObject({ name: 'fake' });
  });

  it('a factory that throws names the options; one that returns no plugin is refused', async () => {
    const { instantiatePlugins, importPlugins } = await import('./plugins.js');
    const imported = await importPlugins(
      [
        {
          kind: 'load',
          path: 'plugins[0]',
          name: 'b',
          source: { module: join(dir, 'fake-plugin.mjs'), export: 'broken' },
          options: {},
        },
        {
          kind: 'load',
          path: 'plugins[1]',
          name: 'n',
          source: { module: join(dir, 'fake-plugin.mjs'), export: 'notAPlugin' },
          options: {},
        },
      ],
      dir,
    );
    try {
      instantiatePlugins(imported, {});
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidConfigError).issues).toEqual([
        { path: 'plugins[0].options', message: 'plugin "b": option "size" must be positive' },
        { path: 'plugins[1]', message: 'plugin "n": the factory did not return a plugin' },
      ]);
    }
  });

  it('hands the aliases to the router plugin as its `models`', async () => {
    const mod = (await import(pathToFileURL(join(dir, 'fake-plugin.mjs')).href)) as { calls: unknown[] };
    mod.calls.length = 0;
    const { instantiatePlugins } = await import('./plugins.js');
    const prepared = await prepareConfig({
      config: {
        providers: [provider],
        aliases: { smart: [{ provider: 'openai', model: 'gpt-4o' }] },
        plugins: [{ name: 'router', module: join(dir, 'fake-plugin.mjs'), options: { strategy: 'priority' } }],
      },
      env,
    });
    instantiatePlugins(prepared.plugins, prepared.config.aliases);
    expect(mod.calls).toEqual([{ strategy: 'priority', models: { smart: [{ provider: 'openai', model: 'gpt-4o' }] } }]);
  });
});

describe('config files', () => {
  it('loads JSON, and reports broken JSON with the file', async () => {
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ providers: [provider] }));
    expect(await loadConfigFile(good)).toEqual({ providers: [provider] });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "providers": [ }');
    const err = (await loadConfigFile(bad).catch((e) => e)) as InvalidConfigError;
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err.message).toContain(bad);
    expect(err.message).toMatch(/not valid JSON/);
  });

  it('loads .js (a default function) and .ts (types stripped) configs', async () => {
    const js = join(dir, 'fn.mjs');
    await writeFile(js, 'export default async () => ({ providers: [{ id: "m", type: "mock" }] });\n');
    expect(await loadConfigFile(js)).toEqual({ providers: [{ id: 'm', type: 'mock' }] });

    const ts = join(dir, 'typed.ts');
    await writeFile(
      ts,
      `interface P { id: string; type: 'mock' }
const providers: P[] = [{ id: 'm', type: 'mock' }];
export default { providers, port: 9000 satisfies number };
`,
    );
    expect(await loadConfigFile(ts)).toEqual({ providers: [{ id: 'm', type: 'mock' }], port: 9000 });
  });

  // Why skip: this Node cannot strip types, so it cannot import a .ts file itself; the loader's own path is tested above.
  it.skipIf(!canImportTypeScript())('Node itself imports the .ts config (type stripping)', async () => {
    const ts = join(dir, 'native.ts');
    await writeFile(ts, `const port: number = 9001;\nexport default { providers: [], port };\n`);
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(ts).href)}); console.log(JSON.stringify(m.default))`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('{"providers":[],"port":9001}');
  });

  it('reports a missing file, a missing default export and an unknown extension', async () => {
    await expect(loadConfigFile(join(dir, 'none.mjs'))).rejects.toThrow(/does not exist/);
    const noDefault = join(dir, 'nodefault.mjs');
    await writeFile(noDefault, 'export const x = 1;\n');
    await expect(loadConfigFile(noDefault)).rejects.toThrow(/no default export/);
    await expect(loadConfigFile(join(dir, 'c.yaml'))).rejects.toThrow(/unsupported config file type ".yaml"/);
  });

  it('finds flowgate.config.* in a directory', async () => {
    const d = await mkdtemp(join(tmpdir(), 'flowgate-find-'));
    try {
      expect(await findConfigFile(d)).toBeUndefined();
      await writeFile(join(d, 'flowgate.config.json'), '{}');
      await writeFile(join(d, 'flowgate.config.js'), 'export default {}');
      expect(await findConfigFile(d)).toBe(join(d, 'flowgate.config.js'));
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('model filters', () => {
  it('keeps exact names as a list and turns * patterns into one expression', () => {
    expect(modelFilter(['a', 'b'])).toEqual(['a', 'b']);
    const f = modelFilter(['gpt-*', 'o1']) as RegExp;
    expect(['gpt-4o', 'o1', 'o1-mini', 'xgpt-4', 'gpt.4'].map((m) => f.test(m))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
