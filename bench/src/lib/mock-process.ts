import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ChildServer {
  url: string;
  stop(): Promise<void>;
}

/** Where the built mock provider package lives. */
export function mockProviderDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@flowgate/mock-provider/package.json'));
}

/**
 * Runs `node ...argv` and resolves with the first http(s) URL it prints: a server in a child
 * process, so that the benchmarked client and the server do not share one event loop.
 */
export async function startChildServer(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`child server exited with code ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https?:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The mock provider's CLI in a child process (`args`: its flags, e.g. `--latency 50`). */
export function startMockProcess(args: string[] = []): Promise<ChildServer> {
  return startChildServer([join(mockProviderDir(), 'dist/cli.js'), '--port', '0', ...args]);
}
