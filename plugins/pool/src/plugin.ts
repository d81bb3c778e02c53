import { ConfigError, type Plugin, type PluginHost } from '@flowgate/core';
import type { Dispatcher } from 'undici';
import { poolAttempt } from './attempt.js';
import { ConnectTracker } from './connect-tracker.js';
import { PoolInstruments } from './metrics.js';
import {
  DEFAULTS,
  type OriginPoolOptions,
  originOf,
  type PoolOptions,
  type ResolvedOriginOptions,
  resolveOriginOptions,
} from './options.js';
import { OriginRegistry } from './origin-registry.js';
import type { OriginPoolStats } from './origin-state.js';
import { PoolDispatcher } from './pool-dispatcher.js';
import { type WarmUpReport, warmUp } from './warm-up.js';

/** The plugin object `pool()` returns: a Plugin with a window on its pools. */
export interface PoolPlugin extends Plugin {
  readonly name: 'pool';
  /** Per origin: undici's pool counters and the plugin's own (connects, connect p50, refusals). */
  stats(): Record<string, OriginPoolStats>;
  /** Resolves when the warm-up is done (at once, with no origins, when there is none). */
  warmUpReport(): Promise<WarmUpReport>;
  /** The undici dispatcher the gateway sends through; undefined until the gateway is created. */
  readonly dispatcher: Dispatcher | undefined;
}

/**
 * Connection pooling for the gateway: one undici pool per provider origin, kept alive between calls, with an
 * optional warm-up, a bound on queued requests, metrics and span events, and a clean shutdown.
 *
 * @example
 * const gateway = createGateway({
 *   providers: [openai({ apiKey: process.env.OPENAI_API_KEY })],
 *   plugins: [pool({ connections: 64, warmUp: { connections: 4 } })],
 * });
 */
export function pool(options: PoolOptions = {}): PoolPlugin {
  if (options === null || typeof options !== 'object') throw new ConfigError('pool: options must be an object');
  const { origins: overrides = {}, drainTimeoutMs = DEFAULTS.drainTimeoutMs, ...base } = options;
  if (typeof drainTimeoutMs !== 'number' || !(drainTimeoutMs >= 0) || !Number.isFinite(drainTimeoutMs)) {
    throw new ConfigError(`pool: drainTimeoutMs must be a number of milliseconds >= 0, got ${String(drainTimeoutMs)}`);
  }
  // Check everything now, so that a mistake fails where the plugin is created.
  const baseResolved = resolveOriginOptions(base, undefined, 'options');
  const perOrigin = new Map<string, ResolvedOriginOptions>();
  for (const [key, override] of Object.entries(overrides as Record<string, OriginPoolOptions>)) {
    const origin = originOf(key, `origins key "${key}"`);
    if (perOrigin.has(origin)) throw new ConfigError(`pool: origins has two keys for ${origin}`);
    perOrigin.set(origin, resolveOriginOptions(base, override, `origins["${key}"]`));
  }

  let registry: OriginRegistry | undefined;
  let agent: PoolDispatcher | undefined;
  let reportReady!: (report: WarmUpReport) => void;
  const report = new Promise<WarmUpReport>((resolve) => {
    reportReady = resolve;
  });

  return {
    name: 'pool',
    get dispatcher() {
      return agent;
    },
    stats() {
      const out: Record<string, OriginPoolStats> = {};
      if (registry) for (const [origin, state] of registry.states) out[origin] = state.snapshot();
      return out;
    },
    warmUpReport: () => report,
    setup(host: PluginHost) {
      if (registry) throw new ConfigError('pool: this plugin instance is already installed in a gateway');
      // An origin first seen on a request (not a provider's) gets the base options, without warm-up.
      registry = new OriginRegistry({ ...baseResolved, warmUp: undefined });
      const providersOf = new Map<string, string[]>();
      for (const p of host.providers) {
        if (p.origin === undefined) continue;
        const origin = originOf(p.origin, `provider "${p.id}" origin`);
        providersOf.set(origin, [...(providersOf.get(origin) ?? []), p.id]);
      }
      for (const origin of perOrigin.keys()) {
        if (!providersOf.has(origin)) {
          throw new ConfigError(
            `pool: origins has ${origin}, which is not the origin of any provider (${[...providersOf.keys()].join(', ') || 'none'})`,
          );
        }
      }
      for (const [origin, ids] of providersOf) {
        registry.add(origin, perOrigin.get(origin) ?? baseResolved, ids.length === 1 ? ids[0] : undefined);
      }

      const states = registry;
      const instruments = new PoolInstruments(host.meter, () => states.states.values());
      const tracker = new ConnectTracker(instruments);
      tracker.start();
      const dispatcher = new PoolDispatcher(registry, tracker, instruments);
      agent = dispatcher;
      host.setDispatcher(dispatcher);
      host.useAttempt(poolAttempt(dispatcher, registry, tracker));
      host.onClose(async () => {
        try {
          await dispatcher.shutdown(drainTimeoutMs);
        } finally {
          instruments.close();
          tracker.stop();
        }
      });

      const warm = [...registry.states.values()].filter((s) => s.options.warmUp !== undefined);
      if (warm.length === 0) {
        reportReady({ origins: [], durationMs: 0 });
        return;
      }
      // The gateway makes calls wait for this promise; it never rejects.
      return warmUp(dispatcher, tracker, warm).then(reportReady);
    },
  };
}
