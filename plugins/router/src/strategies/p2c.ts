import type { Deployment } from '../deployment.js';
import type { SelectContext, Strategy } from '../strategy.js';

/** Load score of power of two choices (Finagle, Linkerd): peak EWMA latency times the work in flight. */
export function peakEwmaCost(d: Deployment): number {
  return ((d.stats.peakEwmaMs ?? 0) + 1) * (d.stats.inFlight + 1);
}

/**
 * Power of two choices with peak EWMA: pick two deployments at random and send to the one with the lower
 * `peakEwmaCost`. Near-optimal balancing at O(1) cost, without the herd effect of always picking the
 * global best. Fallbacks: the others, cheapest first.
 */
export function powerOfTwoChoices(): Strategy {
  return {
    name: 'p2c-peak-ewma',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      const n = candidates.length;
      if (n < 2) return candidates;
      const i = Math.floor(ctx.random() * n);
      let j = Math.floor(ctx.random() * (n - 1));
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      const ca = peakEwmaCost(a);
      const cb = peakEwmaCost(b);
      const first = ca < cb || (ca === cb && ctx.random() < 0.5) ? a : b;
      const rest = candidates.filter((d) => d !== first);
      rest.sort((x, y) => peakEwmaCost(x) - peakEwmaCost(y));
      rest.unshift(first);
      return rest;
    },
  };
}
