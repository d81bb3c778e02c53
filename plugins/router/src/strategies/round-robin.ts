import type { Deployment } from '../deployment.js';
import { rotate, type SelectContext, type Strategy } from '../strategy.js';

/** Round robin: each call starts one deployment further; weights are ignored. Fallbacks follow in list order. */
export function roundRobin(): Strategy {
  const next = new Map<string, number>();
  return {
    name: 'round-robin',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      if (candidates.length < 2) return candidates;
      const i = next.get(ctx.group) ?? 0;
      next.set(ctx.group, (i + 1) % 1_000_000_007);
      return rotate(candidates, i % candidates.length);
    },
  };
}
