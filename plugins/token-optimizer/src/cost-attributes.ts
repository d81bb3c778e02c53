import { semconv } from '@flowgate/core';
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
  private readonly byModel = new Map<string, Map<string | undefined, Map<string | undefined, Attributes>>>();
  private size = 0;

  constructor(private readonly maxSets = MAX_SETS) {}

  get(model: string, system: string | undefined, tenant: string | undefined): Attributes {
    let bySystem = this.byModel.get(model);
    let byTenant = bySystem?.get(system);
    const known = byTenant?.get(tenant);
    if (known !== undefined) return known;
    const attrs: Attributes = { [semconv.ATTR_GEN_AI_RESPONSE_MODEL]: model };
    if (system !== undefined) attrs[semconv.ATTR_GEN_AI_PROVIDER_NAME] = system;
    if (tenant !== undefined) attrs[ATTR_TENANT] = tenant;
    if (this.size >= this.maxSets) return attrs;
    if (bySystem === undefined) {
      bySystem = new Map();
      this.byModel.set(model, bySystem);
    }
    if (byTenant === undefined) {
      byTenant = new Map();
      bySystem.set(system, byTenant);
    }
    byTenant.set(tenant, Object.freeze(attrs));
    this.size++;
    return attrs;
  }
}
