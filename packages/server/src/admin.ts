import type { Gateway, Plugin, SeriesStats } from '@flowgate/core';
import { PLUGIN_REGISTRY } from './plugin-registry.js';

/**
 * What a plugin may expose for `/admin/performance`: a JSON-able summary, read on each request
 * (without it, a synchronous `stats()` returning a plain object is used).
 * Well-known fields the server lifts to the top of the page when present:
 * - `cache`, `semantic-cache`: `hitRate` (0..1)
 * - `token-optimizer`: `costTodayUsd` (number)
 * - `router`: `breakers`, a record from deployment key (`provider/model`, or a provider id) to a
 *   state (`closed` | `open` | `half-open`, or `{ state }`), or an array of `{ key | provider, state }`;
 *   without it, the router plugin's own `deployments()` (`[{ key, provider, breaker }]`) is read.
 */
export interface AdminSummarySource {
  adminSummary(): Record<string, unknown>;
}

export interface ProviderHealth {
  system: string;
  requests: number;
  errors: number;
  errorRate: number;
  latencyMs: SeriesStats['latencyMs'] | null;
  timeToFirstChunkMs: SeriesStats['timeToFirstChunkMs'] | null;
  /** Circuit breaker state per deployment of this provider, from the router plugin; null without one. */
  breakers: Record<string, string> | null;
  /** `down`: every breaker open; `degraded`: some open or half-open, or half the recent calls failed; else `healthy`. */
  health: 'healthy' | 'degraded' | 'down';
}

export interface PerformanceSummary {
  generatedAt: string;
  uptimeSeconds: number;
  /** The sliding window of `latency`, `errorRate` and provider stats. */
  windowSeconds: number;
  requests: {
    /** Model calls (chat, embeddings) since local midnight, and by status class. */
    today: number;
    todayByStatus: Record<string, number>;
    total: number;
    inFlight: number;
    /** Calls refused with 429 by the concurrency limit since start. */
    shed: number;
  };
  /** Latency and time-to-first-chunk per operation over the window (`gateway.stats()`). */
  latency: Record<string, SeriesStats>;
  /** Failed calls / calls over the window, every operation together. */
  errorRate: number;
  cacheHitRate: number | null;
  semanticCacheHitRate: number | null;
  costTodayUsd: number | null;
  providers: Record<string, ProviderHealth>;
  /** Every known plugin: its summary when installed (`{}` if it exposes none), `null` when not installed. */
  plugins: Record<string, Record<string, unknown> | null>;
}

/** The server's own counts that go into the summary. */
export interface RequestCounts {
  today: number;
  todayByStatus: Record<string, number>;
  total: number;
  inFlight: number;
  shed: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * A plugin's summary: `adminSummary()`, else a synchronous `stats()` returning a plain object (the
 * cache plugin has one, with `hitRate`), else `{}`. A throwing method shows as `{ error }`.
 */
function summaryOf(plugin: Plugin): Record<string, unknown> {
  const source = plugin as Partial<AdminSummarySource> & { stats?: unknown };
  const read =
    typeof source.adminSummary === 'function'
      ? source.adminSummary
      : typeof source.stats === 'function' && source.stats.length === 0
        ? (source.stats as () => unknown)
        : undefined;
  if (!read) return {};
  try {
    const s: unknown = read.call(plugin);
    return isObj(s) && typeof s.then !== 'function' ? s : {};
  } catch (err) {
    // A plugin's summary failing must not take the page down.
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Breaker states keyed by deployment: the router summary's `breakers` in any of the documented shapes,
 * else the router plugin's `deployments()` (`[{ key, provider, breaker }]`) when it has one.
 */
function breakerStates(
  summary: Record<string, unknown> | null | undefined,
  plugin: Plugin | undefined,
): Map<string, { provider?: string; state: string }> {
  const out = new Map<string, { provider?: string; state: string }>();
  let b = summary?.breakers;
  const deployments = (plugin as { deployments?: unknown } | undefined)?.deployments;
  if (b === undefined && typeof deployments === 'function') {
    try {
      b = (deployments as () => unknown).call(plugin);
    } catch {
      b = undefined;
    }
  }
  const stateOf = (v: unknown): string | undefined =>
    typeof v === 'string'
      ? v
      : isObj(v) && typeof v.state === 'string'
        ? v.state
        : isObj(v) && typeof v.breaker === 'string'
          ? v.breaker
          : undefined;
  if (Array.isArray(b)) {
    for (const e of b) {
      if (!isObj(e)) continue;
      const state = stateOf(e);
      const key = typeof e.key === 'string' ? e.key : typeof e.provider === 'string' ? e.provider : undefined;
      if (state && key) out.set(key, typeof e.provider === 'string' ? { provider: e.provider, state } : { state });
    }
  } else if (isObj(b)) {
    for (const [key, v] of Object.entries(b)) {
      const state = stateOf(v);
      if (state) out.set(key, isObj(v) && typeof v.provider === 'string' ? { provider: v.provider, state } : { state });
    }
  }
  return out;
}

export function performanceSummary(input: {
  gateway: Gateway;
  plugins: readonly Plugin[];
  counts: RequestCounts;
  startedAt: number;
}): PerformanceSummary {
  const stats = input.gateway.stats();
  const plugins: Record<string, Record<string, unknown> | null> = {};
  for (const name of Object.keys(PLUGIN_REGISTRY)) plugins[name] = null;
  for (const p of input.plugins) plugins[p.name] = summaryOf(p);

  let calls = 0;
  let errors = 0;
  for (const s of Object.values(stats.operations)) {
    calls += s.count;
    errors += s.errors;
  }

  const breakers = breakerStates(
    plugins.router,
    input.plugins.find((p) => p.name === 'router'),
  );
  const providers: Record<string, ProviderHealth> = {};
  for (const p of input.gateway.providers) {
    const s = stats.providers[p.id];
    const mine: Record<string, string> = {};
    let n = 0;
    for (const [key, b] of breakers) {
      if (b.provider === p.id || key === p.id || key.startsWith(`${p.id}/`)) {
        mine[key] = b.state;
        n++;
      }
    }
    const states = Object.values(mine);
    const open = states.filter((x) => x === 'open').length;
    const halfOpen = states.filter((x) => x === 'half-open' || x === 'halfOpen').length;
    const errorRate = s?.errorRate ?? 0;
    const health: ProviderHealth['health'] =
      n > 0 && open === n
        ? 'down'
        : open > 0 || halfOpen > 0 || (s !== undefined && s.count >= 4 && errorRate >= 0.5)
          ? 'degraded'
          : 'healthy';
    providers[p.id] = {
      system: p.system,
      requests: s?.count ?? 0,
      errors: s?.errors ?? 0,
      errorRate,
      latencyMs: s?.latencyMs ?? null,
      timeToFirstChunkMs: s?.timeToFirstChunkMs ?? null,
      breakers: plugins.router ? mine : null,
      health,
    };
  }

  return {
    generatedAt: new Date().toISOString(),
    uptimeSeconds: Math.round((Date.now() - input.startedAt) / 100) / 10,
    windowSeconds: stats.windowMs / 1000,
    requests: input.counts,
    latency: stats.operations,
    errorRate: calls === 0 ? 0 : errors / calls,
    cacheHitRate: num(plugins.cache?.hitRate),
    semanticCacheHitRate: num(plugins['semantic-cache']?.hitRate),
    costTodayUsd: num(plugins['token-optimizer']?.costTodayUsd),
    providers,
    plugins,
  };
}
