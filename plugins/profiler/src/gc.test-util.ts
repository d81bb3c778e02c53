import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Forces a full (major) GC. The test process is not started with --expose-gc, so the flag is set
 * at run time and `gc` taken from a fresh context, where V8 installs it once the flag is on.
 */
export function forceGc(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Polls `cond` (up to about 5 s of 10 ms steps); throws naming `what` if it never holds. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!cond()) throw new Error(`gave up waiting for ${what}`);
}

/** Allocates at least `mb` MiB of small JS objects on the V8 heap (not Buffers, which live outside it). */
export function allocate(mb: number): { n: number }[] {
  const out: { n: number }[] = [];
  // A one-field object plus its array slot is ~40 bytes: 40 000 of them are at least 1 MiB.
  for (let i = 0; i < mb * 40_000; i++) out.push({ n: i });
  return out;
}
