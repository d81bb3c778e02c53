import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MockProvider } from '@flowgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliUsageError, parseCli } from './cli-args.js';
import { type CliIo, runCli } from './cli-main.js';
import { client, startUpstream, UPSTREAM_KEY } from './server.test-util.js';

let dir: string;
let mock: MockProvider;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-cli-'));
  mock = await startUpstream();
});
afterAll(async () => {
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined> = {}, cwd = dir): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => errors.push(l), env, cwd, signals: false, lines, errors };
}

describe('parseCli', () => {
  it('parses serve flags', () => {
    expect(
      parseCli(
        [
          'serve',
          '--config',
          'f.json',
          '--port',
          '9000',
          '--host',
          '0.0.0.0',
          '--workers',
          '4',
          '--mock',
          '--provider',
          'openai=http://a/v1',
          '--provider',
          'openai=http://b/v1',
          '--provider',
          'anthropic=http://c',
        ],
        { OPENAI_API_KEY: 'x' },
      ),
    ).toEqual({
      command: 'serve',
      args: {
        configPath: 'f.json',
        port: 9000,
        host: '0.0.0.0',
        workers: 4,
        providers: [
          { id: 'mock', type: 'mock' },
          { id: 'openai', type: 'openai', baseURL: 'http://a/v1', apiKeyEnv: 'OPENAI_API_KEY' },
          { id: 'openai-2', type: 'openai', baseURL: 'http://b/v1', apiKeyEnv: 'OPENAI_API_KEY' },
          // ANTHROPIC_API_KEY is not set: no key is sent (a local server that needs none).
          { id: 'anthropic', type: 'anthropic', baseURL: 'http://c' },
        ],
      },
    });
    expect(parseCli([])).toEqual({ command: 'help' });
    expect(parseCli(['serve', '-h'])).toEqual({ command: 'help' });
    expect(parseCli(['mock', '--port', '1'])).toEqual({ command: 'mock', argv: ['--port', '1'] });
    expect(parseCli(['demo', '--port', '0'])).toEqual({ command: 'demo', port: 0 });
  });

  it('refuses bad flags with a usage error', () => {
    for (const argv of [
      ['serve', '--port', 'eighty'],
      ['serve', '--workers', '0'],
      ['serve', '--provider', 'openai'],
      ['serve', '--provider', 'gemini=http://x'],
      ['serve', '--bogus'],
      ['launch'],
    ]) {
      expect(() => parseCli(argv), argv.join(' ')).toThrow(CliUsageError);
    }
  });
});

describe('runCli', () => {
  it('serve --provider: the key comes from the environment and never leaves the server', async () => {
    const out = io({ OPENAI_API_KEY: UPSTREAM_KEY });
    const r = await runCli(['serve', '--provider', `openai=${mock.url}/v1`, '--port', '0'], out);
    expect(r.exitCode).toBeUndefined();
    try {
      expect(out.lines[0]).toMatch(
        /^flowgate listening on http:\/\/127\.0\.0\.1:\d+\/v1; providers: openai \(openai\); plugins: none; access: open/,
      );
      const res = await client(r.server!, 'anything').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]?.message.content).toBe('Mock answer to: hi');
      expect(out.lines.join('\n')).not.toContain(UPSTREAM_KEY);
    } finally {
      await r.server?.close();
    }
  });

  it('serve --mock runs on the built-in mock', async () => {
    const out = io();
    const r = await runCli(['serve', '--mock', '--port', '0'], out);
    try {
      const res = await client(r.server!, 'x').chat.completions.create({
        model: 'any-model',
        messages: [{ role: 'user', content: 'ping' }],
      });
      expect(res.model).toBe('any-model');
    } finally {
      await r.server?.close();
    }
  });

  it('a config mistake exits 1 with the field path, before listening', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        providers: [{ id: 'o', type: 'openai', apiKeyEnv: 'MISSING_KEY' }],
        plugins: [{ name: 'fake-plugin' }],
      }),
    );
    for (const command of ['serve', 'check']) {
      const out = io();
      const r = await runCli([command, '--config', 'bad.json'], out);
      expect(r).toEqual({ exitCode: 1 });
      expect(out.errors.join('\n')).toContain('providers[0].apiKeyEnv: environment variable MISSING_KEY is not set');
      expect(out.errors.join('\n')).toContain('plugins[0].name: unknown plugin "fake-plugin"');
      expect(out.lines).toEqual([]);
    }
  });

  it('check reports a good config; serve without any config is a usage error', async () => {
    const file = join(dir, 'flowgate.config.json');
    await writeFile(
      file,
      JSON.stringify({ providers: [{ id: 'm', type: 'mock' }], keys: [{ key: 'k', tenant: 't' }] }),
    );
    const ok = io();
    expect(await runCli(['check'], ok)).toEqual({ exitCode: 0 });
    expect(ok.lines).toEqual(['flowgate: config OK; providers: m (mock); plugins: none; access: 1 API key(s)']);
    await rm(file);

    const none = io();
    expect(await runCli(['serve'], none)).toEqual({ exitCode: 2 });
    expect(none.errors[0]).toMatch(/no config: pass --config FILE/);
  });

  it('a port already in use is a clear error', async () => {
    const first = await runCli(['serve', '--mock', '--port', '0'], io());
    try {
      const port = new URL(first.server!.url).port;
      const out = io();
      expect(await runCli(['serve', '--mock', '--port', port], out)).toEqual({ exitCode: 1 });
      expect(out.errors[0]).toMatch(/cannot listen: .*EADDRINUSE/);
    } finally {
      await first.server?.close();
    }
  });
});

// The real binary: SIGTERM while a slow call is in flight. Runs on the build (CI builds before testing).
const children: ChildProcess[] = [];
afterEach(async () => {
  // A failed test must not leave a server (or a cluster) running.
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: a cluster primary and its workers
    } catch {
      child.kill('SIGKILL');
    }
    await gone;
  }
});
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const built = existsSync(cli);
if (!built)
  console.warn(
    '[cli.test] packages/server/dist/cli.js not built (npx tsc -b packages/server): skipping the SIGTERM test',
  );

describe('flowgate serve as a process', () => {
  // Why skip: the CLI runs from dist/, which a test run before `tsc -b` does not have (CI builds first).
  it.skipIf(!built)('SIGTERM drains the call in flight, then exits 0', async () => {
    mock.configure('slow', { latencyMs: 400 });
    const config = join(dir, 'slow.json');
    await writeFile(
      config,
      JSON.stringify({
        providers: [{ id: 'up', type: 'openai', baseURL: `${mock.url}/v1`, apiKeyEnv: 'UP_KEY' }],
        telemetry: false,
      }),
    );
    const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--config', config, '--port', '0'], {
      env: { ...process.env, UP_KEY: UPSTREAM_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/[^/\s]+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`flowgate exited early: ${stderr}`)));
    });
    const pending = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'take your time' }] }),
    });
    for (let i = 0; i < 400 && mock.stats().byModel.slow !== 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(mock.stats().byModel.slow).toBe(1);
    child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(
      'Mock answer to: take your time',
    );
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM, draining');
  });

  // Why skip: as above, plus it counts the workers through /proc, which only Linux has.
  it.skipIf(!built || !existsSync('/proc/self/task'))(
    '--workers 2 forks workers, restarts a dead one, and stops on SIGTERM',
    async () => {
      // Its own process group, so that cleanup after a failure reaches the workers too.
      const child = spawn(process.execPath, [cli, 'serve', '--mock', '--workers', '2', '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/[^/\s]+)\/v1 with 2 workers/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', () => reject(new Error(`flowgate exited early: ${stderr}`)));
      });
      const workers = async () =>
        (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8'))
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
      const ask = async () => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
        });
        return res.status;
      };
      expect(await ask()).toBe(200);
      const before = await workers();
      expect(before).toHaveLength(2);
      process.kill(before[0]!, 'SIGKILL');
      for (let i = 0; i < 600 && !stderr.includes('restarting'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(stderr).toMatch(/worker \d+ exited \(SIGKILL\); restarting/);
      for (let i = 0; i < 600; i++) {
        const now = await workers();
        if (now.length === 2 && !now.includes(before[0]!)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await workers()).toHaveLength(2);
      expect(await ask()).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
  );
});
