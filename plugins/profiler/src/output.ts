import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '@flowgate/core';
import { ProfilerError } from './errors.js';

/** Where profiles and snapshots go unless told otherwise: `<os tmpdir>/flowgate-profiles`. */
export const DEFAULT_OUTPUT_DIR = join(tmpdir(), 'flowgate-profiles');

let sequence = 0;

export function checkDir(dir: unknown): string {
  if (dir === undefined) return DEFAULT_OUTPUT_DIR;
  if (typeof dir !== 'string' || dir === '') throw new ConfigError('profiler: `dir` must be a non-empty path');
  return resolve(dir);
}

/**
 * A fresh file path in `dir` (created if missing): `<name>-<time>-<pid>-<n><ext>`, so that two
 * profiles of one name, from one or several processes, never overwrite each other.
 */
export async function outputPath(dir: string, name: string, ext: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new ProfilerError(`profiler: cannot create the output directory ${dir}`, err);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const safe = name.replace(/[^\w.-]+/g, '_').slice(0, 80);
  return join(dir, `${safe}-${stamp}-${process.pid}-${++sequence}${ext}`);
}
