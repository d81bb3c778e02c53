import { IdCounter } from './answer.js';
import { BehaviorBook } from './behaviors.js';
import { type ActiveFault, createPrng, drawFault, ScriptBook } from './faults.js';
import { createStats, zero } from './stats.js';
import type { Fault, MockProviderOptions, ModelBehavior } from './types.js';

/** Everything one mock server knows: behaviours, scripts, PRNGs, id counter and stats. */
export class MockState {
  readonly stats = createStats();
  readonly behaviors: BehaviorBook;
  readonly scripts = new ScriptBook();
  readonly ids = new IdCounter();
  readonly apiKey: string | undefined;
  private readonly seed: number;
  private random: () => number;
  private latencyRandom: () => number;

  constructor(options: MockProviderOptions) {
    this.behaviors = new BehaviorBook(options.defaults, options.models);
    this.apiKey = options.apiKey;
    this.seed = options.seed ?? 1;
    this.random = createPrng(this.seed);
    // Latency jitter has its own PRNG so that it never shifts the fault sequence.
    this.latencyRandom = createPrng(this.seed ^ 0x5bd1e995);
    this.armScripts();
  }

  /** The fault for this request: the next scripted entry if a script applies, else a draw on the rate rules. */
  pickFault(model: string, behavior: ModelBehavior): ActiveFault | undefined {
    const scripted = this.scripts.take(model);
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    const rules = behavior.faults;
    return rules === undefined || rules.length === 0 ? undefined : drawFault(rules, this.random);
  }

  /** Milliseconds to wait before responding. */
  latency(behavior: ModelBehavior): number {
    const latency = behavior.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + (latency.max - latency.min) * this.latencyRandom();
  }

  configure(model: string, behavior: ModelBehavior, replace: boolean): void {
    this.behaviors.configure(model, behavior, replace);
    if (behavior.script !== undefined) this.scripts.set(model, behavior.script);
    else if (replace) this.scripts.delete(model);
  }

  script(model: string, faults: readonly Fault[]): void {
    this.scripts.set(model, faults);
  }

  reset(): void {
    zero(this.stats);
    this.armScripts();
    this.random = createPrng(this.seed);
    this.latencyRandom = createPrng(this.seed ^ 0x5bd1e995);
    this.ids.reset();
  }

  private armScripts(): void {
    this.scripts.clear();
    for (const [model, faults] of this.behaviors.scripts()) this.scripts.set(model, faults);
  }
}
