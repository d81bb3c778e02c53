export type { PoolCallOptions } from './call-options.js';
export { POOL_SATURATED, PoolSaturatedError } from './errors.js';
export type { OriginPoolOptions, PoolConnectOptions, PoolOptions, WarmUpOptions } from './options.js';
export type { OriginPoolStats } from './origin-state.js';
export { type PoolPlugin, pool } from './plugin.js';
export type { OriginWarmUp, WarmUpReport } from './warm-up.js';
