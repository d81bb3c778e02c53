import { ConfigError, NoProviderError, type Plugin, type Provider, type Target } from '@flowgate/core';
import type { DeploymentConfig } from './config.js';

/**
 * The server's fallback for `aliases` when the router plugin is not configured: an alias routes to
 * its deployments in priority order (lower first, then as listed), moving to the next one on a
 * retryable failure (the core's default policy); any other model goes to the first provider that
 * serves it. The router plugin replaces this with strategies, retries and breakers.
 */
export function aliasRouter(aliases: Record<string, readonly DeploymentConfig[]>): Plugin & {
  adminSummary(): Record<string, unknown>;
} {
  return {
    name: 'alias-router',
    /** For `/admin/performance`: each alias and its deployments in the order they are tried. */
    adminSummary: () =>
      Object.fromEntries(
        Object.entries(aliases).map(([alias, list]) => [
          alias,
          [...list].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0)).map((d) => `${d.provider}/${d.model}`),
        ]),
      ),
    setup(host) {
      const byId = new Map<string, Provider>(host.providers.map((p) => [p.id, p]));
      const plans = new Map<string, readonly Target[]>();
      for (const [alias, deployments] of Object.entries(aliases)) {
        const ordered = deployments
          .map((d, i) => ({ d, i }))
          .sort((a, b) => (a.d.priority ?? 0) - (b.d.priority ?? 0) || a.i - b.i);
        const targets = ordered.map(({ d }) => {
          const provider = byId.get(d.provider);
          if (!provider) throw new ConfigError(`alias "${alias}" names an unknown provider "${d.provider}"`);
          return Object.freeze({ provider, model: d.model, key: `${d.provider}/${d.model}` });
        });
        plans.set(alias, Object.freeze(targets));
      }
      const providers = host.providers;
      host.setRouter({
        name: 'alias-router',
        plan(ctx) {
          const model = ctx.request.model;
          const planned = plans.get(model);
          if (planned) return planned;
          for (const provider of providers) if (provider.serves(model)) return [{ provider, model }];
          throw new NoProviderError(model);
        },
      });
    },
  };
}
