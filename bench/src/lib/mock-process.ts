import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Runs the mock provider in a child process, so that the benchmarked client and the upstream do
 * not share one event loop.
 */
export async function startMockProcess(args: string[] = []): Promise<{ url: string; stop(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@flowgate/mock-provider/package.json'));
  const child: ChildProcess = spawn(process.execPath, [join(pkgDir, 'dist/cli.js'), '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`mock provider exited with code ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
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
