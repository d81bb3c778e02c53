import { writeHeapSnapshot } from 'node:v8';
import { checkName, ProfilerError } from './errors.js';
import { checkDir, outputPath } from './output.js';

export interface HeapSnapshotOptions {
  /** Directory of the file; default `<os tmpdir>/flowgate-profiles`. */
  dir?: string;
  /** First part of the file name; default `heap`. */
  name?: string;
}

/**
 * Writes a V8 heap snapshot (`.heapsnapshot`, open it in Chrome DevTools › Memory) and resolves
 * with its path. Taking it stops the process for a while (about a second per few hundred MB of
 * heap) and needs memory of about the heap's size again: do it on purpose, not on a timer.
 */
export async function heapSnapshot(options: HeapSnapshotOptions = {}): Promise<string> {
  const name = options.name === undefined ? 'heap' : checkName(options.name, 'heapSnapshot()');
  const path = await outputPath(checkDir(options.dir), name, '.heapsnapshot');
  try {
    return writeHeapSnapshot(path);
  } catch (err) {
    throw new ProfilerError(`profiler: cannot write the heap snapshot ${path}`, err);
  }
}
