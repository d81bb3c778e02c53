import type { CacheStats, StoreUsage } from './types.js';

/** The plugin's counters (plain fields: incremented on the hot path, read by `stats()`). */
export class CacheCounters {
  hits = 0;
  coalesced = 0;
  misses = 0;
  skips = 0;
  stores = 0;
  errors = 0;
  tokensIn = 0;
  tokensOut = 0;

  snapshot(usage: StoreUsage | undefined): CacheStats {
    const served = this.hits + this.coalesced;
    const cacheable = served + this.misses;
    return {
      hits: this.hits,
      coalesced: this.coalesced,
      misses: this.misses,
      skips: this.skips,
      hitRate: cacheable === 0 ? 0 : served / cacheable,
      callsSaved: served,
      tokensSaved: { input: this.tokensIn, output: this.tokensOut },
      stores: this.stores,
      errors: this.errors,
      evictions: usage?.evictions ?? 0,
      entries: usage?.entries ?? 0,
      bytes: usage?.bytes ?? 0,
    };
  }
}
