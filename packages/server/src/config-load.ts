import { access, readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError } from './errors.js';

/** Looked for in the working directory when no `--config` is given, in this order. */
export const CONFIG_FILE_NAMES = [
  'flowgate.config.ts',
  'flowgate.config.mts',
  'flowgate.config.js',
  'flowgate.config.mjs',
  'flowgate.config.json',
];

const TS_EXTENSIONS = new Set(['.ts', '.mts']);
const JS_EXTENSIONS = new Set(['.js', '.mjs']);

/** Finds `flowgate.config.{ts,mts,js,mjs,json}` in `dir`; undefined when there is none. */
export async function findConfigFile(dir: string): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    const file = resolve(dir, name);
    try {
      await access(file);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Whether this Node strips TypeScript types on import (Node >= 22.18 by default: `process.features.typescript`). */
export function canImportTypeScript(): boolean {
  const features = process.features as { typescript?: string | false };
  return typeof features.typescript === 'string' && features.typescript !== '';
}

const fail = (file: string, message: string): never => {
  throw new InvalidConfigError([{ path: '(file)', message }], file);
};

/**
 * Reads a config file: `.json` parsed as JSON; `.js`/`.mjs` and `.ts`/`.mts` imported, taking the
 * default export (an object, or a function returning one, possibly async) or else a `config` export.
 * `.ts` relies on Node's built-in type stripping (erasable syntax only: no enums or namespaces).
 */
export async function loadConfigFile(path: string): Promise<unknown> {
  const file = resolve(path);
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      return fail(file, `cannot read the file: ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      return fail(file, `not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!JS_EXTENSIONS.has(ext) && !TS_EXTENSIONS.has(ext)) {
    return fail(file, `unsupported config file type "${ext}" (use .ts, .mts, .js, .mjs or .json)`);
  }
  if (TS_EXTENSIONS.has(ext) && !canImportTypeScript()) {
    return fail(
      file,
      `this Node (${process.version}) cannot import TypeScript; use Node >= 22.18 (type stripping is on by ` +
        'default), run with --experimental-strip-types, or write the config as .js or .json',
    );
  }
  try {
    await access(file);
  } catch {
    return fail(file, 'the file does not exist');
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    return fail(file, `cannot load the file: ${(err as Error).message}`);
  }
  let value = mod.default ?? mod.config;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (value === undefined) return fail(file, 'the module has no default export (export default { providers: [...] })');
  return value;
}
