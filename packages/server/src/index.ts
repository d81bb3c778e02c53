export type { AdminSummarySource, PerformanceSummary, ProviderHealth, RequestCounts } from './admin.js';
export { aliasRouter } from './alias-router.js';
export { type CliIo, type CliOutcome, runCli } from './cli-main.js';
export {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  type DeploymentConfig,
  defineConfig,
  type FlowgateConfig,
  type KeyConfig,
  type LimitsConfig,
  type PluginConfig,
  type ProviderConfig,
  type TelemetryConfig,
} from './config.js';
export { CONFIG_FILE_NAMES, canImportTypeScript, findConfigFile, loadConfigFile } from './config-load.js';
export { type ValidConfig, validateConfig } from './config-validate.js';
export { DASHBOARD_HTML, serveDashboard } from './dashboard/page.js';
export { type Demo, type DemoOptions, startDemo } from './demo.js';
export { type ErrorAnswer, errorAnswer, HttpError, InvalidConfigError, type OpenAIErrorObject } from './errors.js';
export { PLUGIN_REGISTRY, type PluginSource } from './plugin-registry.js';
export { createServer, type FlowgateServer, type ModelEntry, type ServerOptions } from './server.js';
export {
  type PreparedConfig,
  type PrepareOptions,
  prepareConfig,
  type RunningServer,
  type StartServerOptions,
  startPrepared,
  startServer,
} from './start.js';
