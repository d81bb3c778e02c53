/** Where a plugin named in a config comes from: a package and the name of its factory export. */
export interface PluginSource {
  module: string;
  export: string;
}

/**
 * The built-in plugin names. Loaded with a dynamic `import()` at start-up, so the server has no
 * compile-time dependency on any of them: a plugin that is not installed is a config error only
 * when a config asks for it.
 */
export const PLUGIN_REGISTRY: Readonly<Record<string, PluginSource>> = Object.freeze({
  router: { module: '@flowgate/plugin-router', export: 'router' },
  cache: { module: '@flowgate/plugin-cache', export: 'cache' },
  pool: { module: '@flowgate/plugin-pool', export: 'pool' },
  'token-optimizer': { module: '@flowgate/plugin-token-optimizer', export: 'tokenOptimizer' },
  profiler: { module: '@flowgate/plugin-profiler', export: 'profiler' },
  'semantic-cache': { module: '@flowgate/plugin-semantic-cache', export: 'semanticCache' },
});
