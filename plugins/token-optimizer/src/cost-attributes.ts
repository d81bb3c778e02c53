import { semconv, TupleMap } from '@flowgate/core';
import type { Attributes } from '@opentelemetry/api';

const ATTR_TENANT = semconv.ATTR_FLOWGATE_TENANT;
/** Distinct sets kept; past it, sets are built per call (tenants are the open-ended part). */
const MAX_SETS = 1000;

/**
 * The attribute sets of the cost counter, one frozen object per (response model, provider system,
 * tenant), built once: a pre-aggregating meter (see @flowgate/telemetry) finds a frozen set's series
 * by identity, where a fresh object per call costs it a key built from every attribute.
 */
export class CostAttributeSets {
  private readonly sets = new TupleMap<Attributes>();

  constructor(private readonly maxSets = MAX_SETS) {}

  get(model: string, system: string | undefined, tenant: string | undefined): Attributes {
    const known = this.sets.get(model, system, tenant);
    if (known !== undefined) return known;
    const attrs: Attributes = { [semconv.ATTR_GEN_AI_RESPONSE_MODEL]: model };
    if (system !== undefined) attrs[semconv.ATTR_GEN_AI_PROVIDER_NAME] = system;
    if (tenant !== undefined) attrs[ATTR_TENANT] = tenant;
    if (this.sets.size >= this.maxSets) return attrs;
    this.sets.set(Object.freeze(attrs), model, system, tenant);
    return attrs;
  }
}
