import {
  type Deployment,
  NoDeploymentError,
  type SelectContext,
  type Strategy,
  weightedRoundRobin,
} from '@flowgate/plugin-router';

/** Service tiers, from most to least demanding. */
export type Tier = 'premium' | 'standard' | 'batch';

// A plugin extends the per-call options by module augmentation: `gateway.complete(req, { tier: 'batch' })`.
declare module '@flowgate/core' {
  interface CallOptions {
    /** Overrides the tier of the call's tenant. */
    tier?: Tier;
  }
}

export interface TierRoutingOptions {
  /** Tier of each tenant (`metadata.tenant` of the call); unknown tenants are `standard`. */
  tenants: Readonly<Record<string, Tier>>;
  /** Peak hours, local time: `[from, to)`. Default 8 to 20. */
  peak?: { from: number; to: number };
  /** Spreads calls inside each group of equally good deployments. Default: smooth weighted round robin. */
  within?: Strategy;
  /** The time of day (tests pass a fixed one). Default: `new Date()`. */
  now?: () => Date;
}

/**
 * Which deployments a tier may use, best first, as deployment tags. A deployment tagged `premium`, `standard`
 * or `economy` serves those tiers; an untagged deployment is shared by every tier.
 * - premium: premium capacity, then standard; in an emergency anything (`overflow`).
 * - standard: standard capacity, then premium at quiet hours (it is idle then); in an emergency anything.
 * - batch: economy only at peak hours (never take capacity from interactive users); off peak, economy and
 *   standard alike.
 */
function preferences(tier: Tier, offPeak: boolean): { groups: string[][]; overflow: boolean } {
  switch (tier) {
    case 'premium':
      return { groups: [['premium'], ['standard']], overflow: true };
    case 'standard':
      return { groups: offPeak ? [['standard', 'premium']] : [['standard'], ['premium']], overflow: true };
    case 'batch':
      return { groups: offPeak ? [['economy', 'standard']] : [['economy']], overflow: false };
  }
}

const TIER_TAGS = ['premium', 'standard', 'economy'];

/**
 * Routing by tenant tier and time of day, as a strategy of `@flowgate/plugin-router`: it orders the healthy
 * candidates the router gives it (open circuits are already out), and the router does the rest (fallback in
 * this order, retries, breakers, hedging, telemetry).
 */
export function tierAndTimeOfDay(options: TierRoutingOptions): Strategy {
  const within = options.within ?? weightedRoundRobin();
  const peak = options.peak ?? { from: 8, to: 20 };
  const now = options.now ?? (() => new Date());
  return {
    name: 'tier-and-time-of-day',
    select(candidates: readonly Deployment[], ctx: SelectContext): readonly Deployment[] {
      const tier = tierOf(ctx, options.tenants);
      const hour = now().getHours();
      const offPeak = hour < peak.from || hour >= peak.to;
      const { groups, overflow } = preferences(tier, offPeak);

      const shared = candidates.filter((d) => !d.tags.some((t) => TIER_TAGS.includes(t)));
      const ordered: Deployment[] = [];
      for (const tags of groups) {
        const group = candidates.filter((d) => d.tags.some((t) => tags.includes(t)));
        // Shared deployments are as good as the tier's first choice.
        if (ordered.length === 0) group.push(...shared);
        if (group.length > 0) ordered.push(...within.select(group, ctx));
      }
      if (ordered.length === 0 && shared.length > 0) ordered.push(...within.select(shared, ctx));
      if (overflow) for (const d of candidates) if (!ordered.includes(d)) ordered.push(d);
      if (ordered.length === 0) {
        throw new NoDeploymentError(
          ctx.group,
          `no deployment serves the ${tier} tier ${offPeak ? 'off peak' : 'at peak hours'}`,
        );
      }
      return ordered;
    },
  };
}

/** The call's tier: its `tier` option, else its tenant's tier, else `standard`. */
export function tierOf(ctx: SelectContext, tenants: Readonly<Record<string, Tier>>): Tier {
  const tenant = ctx.call.metadata.tenant;
  return ctx.call.options.tier ?? (tenant !== undefined ? tenants[tenant] : undefined) ?? 'standard';
}
