import type { ModelBehavior } from './types.js';

/** The configured behaviours: defaults plus per-model overrides, merged once per model and cached. */
export class BehaviorBook {
  private defaults: ModelBehavior;
  private readonly models = new Map<string, ModelBehavior>();
  private readonly merged = new Map<string, ModelBehavior>();

  constructor(defaults: ModelBehavior = {}, models: Record<string, ModelBehavior> = {}) {
    this.defaults = { ...defaults };
    for (const [name, behavior] of Object.entries(models)) this.models.set(name, { ...behavior });
  }

  /** Set `model`'s behaviour (`'*'` = the defaults), merged over the current one unless `replace`. */
  configure(model: string, behavior: ModelBehavior, replace: boolean): void {
    if (model === '*') {
      this.defaults = replace ? { ...behavior } : { ...this.defaults, ...behavior };
    } else {
      const current = replace ? undefined : this.models.get(model);
      this.models.set(model, { ...current, ...behavior });
    }
    this.merged.clear();
  }

  /** The effective behaviour of `model`. */
  get(model: string): ModelBehavior {
    let behavior = this.merged.get(model);
    if (behavior === undefined) {
      const own = this.models.get(model);
      behavior = own === undefined ? this.defaults : { ...this.defaults, ...own };
      // Bound the cache: unknown model names come from clients.
      if (this.merged.size > 10_000) this.merged.clear();
      this.merged.set(model, behavior);
    }
    return behavior;
  }

  /** Names of the models configured explicitly. */
  names(): string[] {
    return [...this.models.keys()];
  }

  /** Scripts declared in the behaviours, by model (`'*'` for the defaults). */
  scripts(): [string, NonNullable<ModelBehavior['script']>][] {
    const out: [string, NonNullable<ModelBehavior['script']>][] = [];
    if (this.defaults.script !== undefined) out.push(['*', this.defaults.script]);
    for (const [name, behavior] of this.models) {
      if (behavior.script !== undefined) out.push([name, behavior.script]);
    }
    return out;
  }
}
