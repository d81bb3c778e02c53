import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from '@flowgate/core';
import type { DeploymentConfig } from './config.js';
import type { ValidPluginEntry } from './config-validate.js';
import { InvalidConfigError } from './errors.js';

/** A plugin entry whose factory was imported (nothing instantiated yet). */
export type ImportedPlugin =
  | { kind: 'object'; path: string; plugin: Plugin }
  | {
      kind: 'factory';
      path: string;
      name: string;
      module: string;
      factory: (options: Record<string, unknown>) => unknown;
      options: Record<string, unknown>;
    };

const isRelative = (m: string) => m.startsWith('./') || m.startsWith('../') || isAbsolute(m);

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_LOAD_URL') &&
    typeof e.message === 'string' &&
    e.message.includes(specifier)
  );
}

/**
 * Imports every plugin factory named in the config (with a dynamic `import()`, so that the server
 * depends on no plugin at compile time). A package that is not installed, does not load, or lacks
 * the factory export is a config error naming the entry, raised before anything listens.
 */
export async function importPlugins(entries: readonly ValidPluginEntry[], baseDir: string): Promise<ImportedPlugin[]> {
  const issues: { path: string; message: string }[] = [];
  const out: ImportedPlugin[] = [];
  for (const entry of entries) {
    if (entry.kind === 'object') {
      out.push(entry);
      continue;
    }
    const { module, export: exportName } = entry.source;
    const specifier = isRelative(module) ? pathToFileURL(resolve(baseDir, module)).href : module;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(specifier)) as Record<string, unknown>;
    } catch (err) {
      const why = isModuleNotFound(err, module)
        ? `"${module}" is not installed${isRelative(module) ? '' : ` (npm install ${module})`}`
        : `"${module}" failed to load: ${(err as Error)?.message ?? String(err)}`;
      issues.push({ path: `${entry.path}.name`, message: `plugin "${entry.name}": ${why}` });
      continue;
    }
    const factory = mod[exportName];
    if (typeof factory !== 'function') {
      issues.push({
        path: `${entry.path}.name`,
        message: `plugin "${entry.name}": "${module}" has no factory export "${exportName}" (is it an older or unfinished version?)`,
      });
      continue;
    }
    out.push({
      kind: 'factory',
      path: entry.path,
      name: entry.name,
      module,
      factory: factory as (options: Record<string, unknown>) => unknown,
      options: entry.options,
    });
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return out;
}

/**
 * Calls each factory with its options. The router gets the config's `aliases` as `options.models`
 * (its name for model aliases) unless its options already carry some. A factory that throws (bad options) is a config error
 * naming `plugins[i].options`.
 */
export function instantiatePlugins(
  imported: readonly ImportedPlugin[],
  aliases: Record<string, DeploymentConfig[]>,
): Plugin[] {
  const issues: { path: string; message: string }[] = [];
  const plugins: Plugin[] = [];
  for (const entry of imported) {
    if (entry.kind === 'object') {
      plugins.push(entry.plugin);
      continue;
    }
    let options = entry.options;
    if (entry.name === 'router' && Object.keys(aliases).length > 0 && options.models === undefined) {
      // The router plugin takes model aliases as `models: { alias: deployments }`.
      options = { ...options, models: aliases };
    }
    try {
      const plugin = entry.factory(options) as Partial<Plugin> | undefined;
      if (!plugin || typeof plugin.setup !== 'function' || typeof plugin.name !== 'string') {
        issues.push({ path: entry.path, message: `plugin "${entry.name}": the factory did not return a plugin` });
        continue;
      }
      plugins.push(plugin as Plugin);
    } catch (err) {
      issues.push({
        path: `${entry.path}.options`,
        message: `plugin "${entry.name}": ${(err as Error)?.message ?? String(err)}`,
      });
    }
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return plugins;
}

/** Whether the plugin list sets a router: then `aliases` go to it instead of the built-in alias router. */
export function hasRouterPlugin(imported: readonly ImportedPlugin[]): boolean {
  return imported.some((p) => (p.kind === 'object' ? p.plugin.name === 'router' : p.name === 'router'));
}
