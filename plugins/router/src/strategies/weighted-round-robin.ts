import type { Deployment } from '../deployment.js';
import type { SelectContext, Strategy } from '../strategy.js';

/**
 * Picks the next deployment by smooth weighted round robin (nginx): over any window of `sum(weights)` calls
 * each deployment gets exactly its weight, interleaved rather than in bursts. `current` holds the running
 * weights of one group.
 */
export function smoothPick(candidates: readonly Deployment[], current: Map<string, number>): Deployment {
  let total = 0;
  let best: Deployment = candidates[0]!;
  let bestWeight = Number.NEGATIVE_INFINITY;
  for (const d of candidates) {
    const w = (current.get(d.key) ?? 0) + d.weight;
    current.set(d.key, w);
    total += d.weight;
    if (w > bestWeight) {
      bestWeight = w;
      best = d;
    }
  }
  current.set(best.key, bestWeight - total);
  return best;
}

/** Fallbacks after the pick: heaviest first. */
export function heaviestFirst(candidates: readonly Deployment[], first: Deployment): Deployment[] {
  const rest = candidates.filter((d) => d !== first).sort((a, b) => b.weight - a.weight);
  rest.unshift(first);
  return rest;
}

/** Smooth weighted round robin: traffic in proportion to `weight`; equal weights = round robin. */
export function weightedRoundRobin(): Strategy {
  const groups = new Map<string, Map<string, number>>();
  return {
    name: 'weighted-round-robin',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      if (candidates.length < 2) return candidates;
      let current = groups.get(ctx.group);
      if (!current) {
        current = new Map();
        groups.set(ctx.group, current);
      }
      return heaviestFirst(candidates, smoothPick(candidates, current));
    },
  };
}
