import { checkFunction, checkName } from './errors.js';
import type { GcTotals } from './gc-types.js';
import { GcWatch } from './gc-watch.js';
import { usedHeap } from './heap.js';

export interface ProfileResult<T> {
  name: string;
  /** Wall time of `fn`, ms. */
  durationMs: number;
  /**
   * Used heap after `fn` minus before: the bytes it left behind, net. Equal to what the process
   * allocated meanwhile when no GC ran (`gcCount` 0); lower, even negative, when one did.
   */
  heapDeltaBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** GC pauses that started while `fn` ran (any code in the process, not only `fn`). */
  gcCount: number;
  gcTimeMs: number;
  gcByType: GcTotals['byType'];
  /** What `fn` returned (awaited). */
  result: T;
}

/**
 * Runs `fn` once and measures its duration, heap delta and the GC pauses that happened meanwhile.
 * An error from `fn` is passed on unchanged.
 *
 * @example
 * const { durationMs, heapDeltaBytes, gcCount, gcTimeMs } = await profile('parse', () => JSON.parse(big));
 */
export async function profile<T>(name: string, fn: () => T | Promise<T>): Promise<ProfileResult<T>> {
  checkName(name, 'profile()');
  checkFunction(fn, 'the `fn` of profile(name, fn)');
  const watch = new GcWatch();
  const heapBeforeBytes = usedHeap();
  const start = performance.now();
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    watch.cancel();
    throw err;
  }
  const end = performance.now();
  const heapAfterBytes = usedHeap();
  const gc = await watch.stop(start, end);
  return {
    name,
    durationMs: end - start,
    heapDeltaBytes: heapAfterBytes - heapBeforeBytes,
    heapBeforeBytes,
    heapAfterBytes,
    gcCount: gc.count,
    gcTimeMs: gc.timeMs,
    gcByType: gc.byType,
    result,
  };
}
