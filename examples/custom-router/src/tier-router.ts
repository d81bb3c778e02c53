import { type RouterOptions, type RouterPlugin, router } from '@flowgate/plugin-router';
import { type TierRoutingOptions, tierAndTimeOfDay } from './tier-strategy.js';

/**
 * The routing plugin: `router()` with the tier strategy, so that breakers, retries, fallbacks, hedging and
 * telemetry come with it. Everything else is a router option.
 */
export function tierRouting(options: TierRoutingOptions & Omit<RouterOptions, 'strategy'>): RouterPlugin {
  const { tenants, peak, within, now, ...routerOptions } = options;
  return router({ ...routerOptions, strategy: tierAndTimeOfDay({ tenants, peak, within, now }) });
}
