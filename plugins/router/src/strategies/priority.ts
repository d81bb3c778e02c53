import type { Deployment } from '../deployment.js';
import type { SelectContext, Strategy } from '../strategy.js';
import { smoothPick } from './weighted-round-robin.js';

/**
 * Ordered fallback: every call goes to the best tier (lowest `priority`), spread over that tier by smooth
 * weighted round robin; the next tiers are the fallbacks, in priority order.
 */
export function priority(): Strategy {
  const groups = new Map<string, Map<string, number>>();
  return {
    name: 'priority',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      if (candidates.length < 2) return candidates;
      const sorted = [...candidates].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      const top = sorted[0]!.priority;
      let tierEnd = 1;
      while (tierEnd < sorted.length && sorted[tierEnd]!.priority === top) tierEnd++;
      if (tierEnd === 1) return sorted;
      const key = `${ctx.group}\u0000${top}`;
      let current = groups.get(key);
      if (!current) {
        current = new Map();
        groups.set(key, current);
      }
      const first = smoothPick(sorted.slice(0, tierEnd), current);
      const out: Deployment[] = [first];
      for (const d of sorted) if (d !== first) out.push(d);
      return out;
    },
  };
}
