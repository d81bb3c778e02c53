import { writeFile } from 'node:fs/promises';
import { type CpuProfileData, type FunctionTime, topFunctions } from './cpu-profile-summary.js';
import { checkName, checkNumber, ProfilerError } from './errors.js';
import { checkDir, outputPath } from './output.js';

export interface CpuProfileOptions {
  /** Directory of the `.cpuprofile` file; default `<os tmpdir>/flowgate-profiles`. */
  dir?: string;
  /** V8 sampling interval, µs; default 1000 (V8's default). Lower it for short functions. */
  samplingIntervalUs?: number;
  /** How many functions `topFunctions` lists; default 10. */
  top?: number;
}

export interface CpuProfileResult<T> {
  /** The `.cpuprofile` file: open it in Chrome DevTools (Performance or the JavaScript Profiler panel) or VS Code. */
  path: string;
  durationMs: number;
  sampleCount: number;
  /** Functions by self time, most first. */
  topFunctions: FunctionTime[];
  /** What `fn` returned (undefined when profiling for a duration). */
  result: T | undefined;
}

/**
 * Records a V8 CPU profile while `fn` runs (awaited), or for `durationMs` of whatever the process
 * does, writes it as a `.cpuprofile` file and returns the top functions by self time. Uses the
 * in-process inspector (`node:inspector/promises`): no flag and no debugger needed. An error from
 * `fn` is passed on and no file is written.
 *
 * @example
 * const { path, topFunctions } = await cpuProfile('load', 5000); // what the server does for 5 s
 */
export async function cpuProfile<T = undefined>(
  name: string,
  target: (() => T | Promise<T>) | number,
  options: CpuProfileOptions = {},
): Promise<CpuProfileResult<T>> {
  checkName(name, 'cpuProfile()');
  // A missing target is an error, not a zero-length profile.
  if (typeof target !== 'function') checkNumber(target ?? null, 'durationMs', 0, { min: 0 });
  const dir = checkDir(options.dir);
  const interval = checkNumber(options.samplingIntervalUs, 'samplingIntervalUs', 1000, { integer: true, min: 1 });
  const top = checkNumber(options.top, 'top', 10, { integer: true, min: 1 });

  let Session: typeof import('node:inspector/promises').Session;
  try {
    ({ Session } = await import('node:inspector/promises'));
  } catch (err) {
    throw new ProfilerError('profiler: cpuProfile() needs node:inspector, which this Node build lacks', err);
  }
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval });
    await session.post('Profiler.start');
    const start = performance.now();
    let result: T | undefined;
    let profile: CpuProfileData;
    try {
      if (typeof target === 'function') result = await target();
      else await new Promise((resolve) => setTimeout(resolve, target));
    } finally {
      // Stop even when `fn` failed, so that the profiler does not keep sampling.
      ({ profile } = await session.post('Profiler.stop'));
    }
    const durationMs = performance.now() - start;
    await session.post('Profiler.disable');
    const path = await outputPath(dir, name, '.cpuprofile');
    try {
      await writeFile(path, JSON.stringify(profile));
    } catch (err) {
      throw new ProfilerError(`profiler: cannot write ${path}`, err);
    }
    return {
      path,
      durationMs,
      sampleCount: profile.samples?.length ?? 0,
      topFunctions: topFunctions(profile, top),
      result,
    };
  } finally {
    session.disconnect();
  }
}
