import type { Deployment } from '../deployment.js';
import { byScore, type SelectContext, type Strategy } from '../strategy.js';

/** Least busy: the fewest attempts in flight per unit of weight; ties share traffic at random. */
export function leastBusy(): Strategy {
  return {
    name: 'least-busy',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      if (candidates.length < 2) return candidates;
      return byScore(candidates, (d) => d.stats.inFlight / d.weight, ctx.random);
    },
  };
}
