import type { Plugin } from '@flowgate/core';
import { attemptMiddleware } from './attempt.js';
import { hedgeMiddleware } from './hedge.js';
import { type DeploymentSnapshot, type RouterOptions, Runtime } from './runtime.js';

/** The router plugin: also a live view of its deployments. */
export interface RouterPlugin extends Plugin {
  readonly name: 'router';
  /** Every deployment the router knows, with breaker state and stats ([] until a gateway is created with it). */
  deployments(): DeploymentSnapshot[];
}

/**
 * Routing, fallbacks, retries, circuit breakers and hedging. Sets the gateway's router (plans are pulled one
 * target at a time, so retries and fallbacks are decided after each failure) and adds attempt middleware
 * (breakers, timeouts, latency stats, stream guarding); with `hedge`, also a call middleware.
 *
 * @example
 * createGateway({
 *   providers: [openai({ apiKey }), anthropic({ apiKey: anthropicKey })],
 *   plugins: [router({
 *     models: { smart: [{ provider: 'openai', model: 'gpt-4o' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
 *     strategy: 'least-latency',
 *     firstByteTimeoutMs: 20_000,
 *     stallTimeoutMs: 15_000,
 *   })],
 * });
 */
export function router(options: RouterOptions = {}): RouterPlugin {
  let runtime: Runtime | undefined;
  return {
    name: 'router',
    setup(host) {
      const rt = new Runtime(options, host);
      runtime = rt;
      host.setRouter({ name: 'router', plan: rt.plan, shouldFallback: rt.shouldFallback });
      if (rt.hedge) host.useCall(hedgeMiddleware(rt, host));
      host.useAttempt(attemptMiddleware(rt));
      host.onClose(() => rt.close());
    },
    deployments: () => runtime?.snapshot() ?? [],
  };
}
