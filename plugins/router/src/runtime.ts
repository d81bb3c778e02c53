import {
  type AttemptContext,
  type CallContext,
  ConfigError,
  InvalidRequestError,
  NoProviderError,
  type Plan,
  type Plugin,
  type PluginHost,
  type Provider,
  type Target,
  WindowedHistogram,
} from '@flowgate/core';
import { PLAN_KEY } from './attempt.js';
import { type ResolvedRetry, type RetryOptions, resolveRetry } from './backoff.js';
import {
  Breaker,
  type BreakerOptions,
  type BreakerState,
  BucketClock,
  type ResolvedBreaker,
  resolveBreaker,
} from './breaker.js';
import {
  type Deployment,
  type DeploymentConfig,
  DeploymentEntry,
  Health,
  type LatencyOptions,
  type ResolvedLatency,
} from './deployment.js';
import { defaultErrorAction, type ErrorAction } from './error-policy.js';
import { CircuitOpenError, NoDeploymentError } from './errors.js';
import { probeDeployment } from './health-check.js';
import { HEDGE_KEY, type HedgeOptions, type ResolvedHedge, resolveHedge } from './hedge.js';
import { CallPlan } from './plan.js';
import { isPriceLookup, type Price, type PriceLookup, priceTable } from './prices.js';
import { RetryBudget } from './retry-budget.js';
import { costAware } from './strategies/cost.js';
import { leastBusy } from './strategies/least-busy.js';
import { leastLatency } from './strategies/least-latency.js';
import { powerOfTwoChoices } from './strategies/p2c.js';
import { priority } from './strategies/priority.js';
import { roundRobin } from './strategies/round-robin.js';
import { weightedRoundRobin } from './strategies/weighted-round-robin.js';
import type { SelectContext, Strategy, StrategyName } from './strategy.js';
import { ATTR_GROUP, ATTR_STRATEGY, RouterInstruments } from './telemetry.js';
import type { RouterCallOptions } from './types.js';

/** A model alias with its own strategy. */
export interface ModelGroupConfig {
  deployments: readonly DeploymentConfig[];
  /** Default: the router's `strategy`. */
  strategy?: StrategyName | Strategy;
}

export interface RouterOptions {
  /**
   * Model aliases: a call for the alias routes among its deployments, e.g.
   * `{ smart: [{ provider: 'openai', model: 'gpt-4o' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }] }`.
   * A call for any other model routes among the configured deployments of that model, else among every
   * provider that serves it.
   */
  models?: Readonly<Record<string, readonly DeploymentConfig[] | ModelGroupConfig>>;
  /** Default `'weighted-round-robin'` (plain round robin when weights are equal). */
  strategy?: StrategyName | Strategy;
  /** Retries after every deployment was tried; `false`: none. */
  retry?: RetryOptions | false;
  /** One circuit breaker per deployment; `false`: none. */
  breaker?: BreakerOptions | false;
  /** Hedged requests; off unless given. */
  hedge?: HedgeOptions;
  /** An attempt without a first byte (whole answer, or first token) after this fails with a TimeoutError. Off by default. */
  firstByteTimeoutMs?: number;
  /** A stream that sends no chunk for this fails with a StreamStallError (a TimeoutError). Off by default. */
  stallTimeoutMs?: number;
  latency?: LatencyOptions;
  /** Prices for the cost-aware strategy when the token optimizer plugin is absent (USD per million tokens, by model). */
  prices?: Readonly<Record<string, Price>> | PriceLookup;
  /** Changes what happens after a failed attempt; gets the default action (see `defaultErrorAction`). */
  errorPolicy?: (error: unknown, defaultAction: ErrorAction) => ErrorAction;
  /** Clock for latency estimates and budgets, ms. Default `performance.now`. For tests. */
  clock?: () => number;
  /** Random numbers in [0, 1) for jitter and strategies. Default `Math.random`. For tests. */
  random?: () => number;
}

/** A deployment's state, for dashboards and demos (`routerPlugin.deployments()`). */
export interface DeploymentSnapshot {
  key: string;
  provider: string;
  model: string;
  breaker: BreakerState;
  inFlight: number;
  successes: number;
  failures: number;
  latencyMs: number | undefined;
  ttftMs: number | undefined;
  peakEwmaMs: number | undefined;
}

class Group {
  constructor(
    readonly name: string,
    readonly entries: readonly DeploymentEntry[],
    readonly strategy: Strategy,
    /** Health objects only this (implicit) group uses, shut down when the group is evicted. */
    readonly owned: readonly Health[] = [],
  ) {}
}

/** Most concrete model names remembered; the oldest is forgotten beyond this. */
const MAX_IMPLICIT_GROUPS = 256;

export function createStrategy(name: StrategyName | Strategy): Strategy {
  if (typeof name === 'object' && name !== null && typeof name.select === 'function') return name;
  switch (name) {
    case 'round-robin':
      return roundRobin();
    case 'weighted-round-robin':
      return weightedRoundRobin();
    case 'priority':
      return priority();
    case 'least-latency':
      return leastLatency();
    case 'least-busy':
      return leastBusy();
    case 'p2c-peak-ewma':
      return powerOfTwoChoices();
    case 'cost':
      return costAware();
    default:
      throw new ConfigError(
        `unknown routing strategy ${JSON.stringify(name)}: use round-robin, weighted-round-robin, priority, least-latency, least-busy, p2c-peak-ewma, cost, or an object with select()`,
      );
  }
}

class Selection implements SelectContext {
  call!: CallContext;
  group = '';
  now = 0;
  constructor(private readonly rt: Runtime) {}
  priceOf = (d: Deployment): Price | undefined => this.rt.priceOf(d);
  random = (): number => this.rt.random();
}

/** The router of one gateway: its groups and deployments, and the hooks the plugin registers. */
export class Runtime {
  readonly retry: ResolvedRetry;
  readonly budget: RetryBudget | undefined;
  readonly hedge: ResolvedHedge | undefined;
  readonly hedgeBudget: RetryBudget | undefined;
  readonly firstByteTimeoutMs: number | undefined;
  readonly stallTimeoutMs: number | undefined;
  readonly latency: ResolvedLatency;
  readonly instruments: RouterInstruments;
  readonly now: () => number;
  readonly random: () => number;
  private readonly groups = new Map<string, Group>();
  private readonly implicit = new Map<string, Group>();
  private readonly healths = new Map<string, Health>();
  private readonly byTarget = new Map<Target, Health>();
  private readonly defaultStrategy: Strategy;
  private readonly selection: Selection;
  private readonly breaker: ResolvedBreaker | undefined;
  private readonly bucketClock: BucketClock | undefined;
  private readonly prices: PriceLookup | undefined;
  private readonly optimizer: Plugin | undefined;
  private readonly errorPolicy: RouterOptions['errorPolicy'];

  constructor(
    options: RouterOptions,
    private readonly host: PluginHost,
  ) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('router(options): options must be an object');
    this.now = options.clock ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.retry = resolveRetry(options.retry);
    this.budget =
      options.retry === false || options.retry?.budget === false
        ? undefined
        : new RetryBudget(options.retry?.budget ?? {});
    this.hedge = resolveHedge(options.hedge);
    this.hedgeBudget = this.hedge ? new RetryBudget({ ratio: this.hedge.maxRatio, minPerSecond: 1 }) : undefined;
    this.firstByteTimeoutMs = positive(options.firstByteTimeoutMs, 'firstByteTimeoutMs');
    this.stallTimeoutMs = positive(options.stallTimeoutMs, 'stallTimeoutMs');
    this.latency = resolveLatency(options.latency);
    this.breaker = options.breaker === false ? undefined : resolveBreaker(options.breaker);
    this.bucketClock = this.breaker ? new BucketClock(this.breaker.rollingWindowMs) : undefined;
    this.errorPolicy = options.errorPolicy;
    if (options.prices !== undefined) {
      if (isPriceLookup(options.prices)) this.prices = options.prices;
      else if (typeof options.prices === 'object' && options.prices !== null) {
        for (const [model, price] of Object.entries(options.prices)) checkPrice(price, `prices["${model}"]`);
        this.prices = priceTable(options.prices as Record<string, Price>);
      } else throw new ConfigError('prices must be a record of prices by model or an object with priceOf(model)');
    }
    this.optimizer = host.getPlugin('token-optimizer');
    this.defaultStrategy = createStrategy(options.strategy ?? 'weighted-round-robin');
    this.selection = new Selection(this);
    this.instruments = new RouterInstruments(host.meter, () => this.healths.values());
    this.buildGroups(options.models ?? {});
  }

  // ---- hooks ---------------------------------------------------------------------------------

  /** `router.plan`: the healthy candidates, ordered by the strategy, as a plan the core pulls from. */
  readonly plan = (ctx: CallContext): Plan => {
    const group = this.groupFor(ctx.request.model);
    const now = this.now();
    this.budget?.deposit(now);
    this.hedgeBudget?.deposit(now);
    const callOptions = ctx.options.router;
    if (callOptions !== undefined) checkCallOptions(callOptions);
    const tags = callOptions?.tags;
    const entries = group.entries;
    let candidates: readonly DeploymentEntry[] = entries;
    let allOk = true;
    for (const e of entries) {
      if (!e.health.available || !e.hasTags(tags)) {
        allOk = false;
        break;
      }
    }
    if (!allOk) {
      let tagged = 0;
      const some: DeploymentEntry[] = [];
      for (const e of entries) {
        if (!e.hasTags(tags)) continue;
        tagged++;
        if (e.health.available) some.push(e);
      }
      if (some.length === 0) {
        if (tagged === 0) throw new NoDeploymentError(group.name, `none has the tags ${JSON.stringify(tags)}`);
        throw new CircuitOpenError(group.name, `every deployment of "${group.name}" has an open circuit`);
      }
      candidates = some;
    }
    const sel = this.selection;
    sel.call = ctx;
    sel.group = group.name;
    sel.now = now;
    const chosen = group.strategy.select(candidates, sel);
    let ordered = chosen as readonly DeploymentEntry[];
    for (const d of chosen) {
      if (!(d instanceof DeploymentEntry)) {
        ordered = chosen.filter((x): x is DeploymentEntry => x instanceof DeploymentEntry);
        break;
      }
    }
    if (ordered.length === 0) {
      throw new NoDeploymentError(
        group.name,
        `the "${group.strategy.name}" strategy found none of ${candidates.length} candidates suitable`,
      );
    }
    const plan = new CallPlan(this, ctx, entries, ordered, tags, group.name, group.strategy.name);
    ctx.set(PLAN_KEY, plan);
    ctx.meta.router = plan.meta;
    ctx.get(HEDGE_KEY)?.attach(plan);
    if (ctx.span.isRecording()) {
      ctx.span.setAttributes({ [ATTR_STRATEGY]: group.strategy.name, [ATTR_GROUP]: group.name });
    }
    return plan;
  };

  readonly shouldFallback = (error: unknown, actx: AttemptContext): boolean => {
    const plan = actx.get(PLAN_KEY);
    const health = this.byTarget.get(actx.target);
    if (!plan || !health) return this.policy(error) !== 'stop';
    return plan.onFailure(health, error);
  };

  policy(error: unknown): ErrorAction {
    const action = defaultErrorAction(error);
    return this.errorPolicy ? this.errorPolicy(error, action) : action;
  }

  healthOf(target: Target): Health | undefined {
    return this.byTarget.get(target);
  }

  priceOf(d: Deployment): Price | undefined {
    if (d.price) return d.price;
    const fromOptimizer = (this.optimizer as { prices?: unknown } | undefined)?.prices;
    if (isPriceLookup(fromOptimizer)) {
      const p = fromOptimizer.priceOf(d.model);
      if (p) return p;
    }
    return this.prices?.priceOf(d.model);
  }

  snapshot(): DeploymentSnapshot[] {
    return [...this.healths.values()].map((h) => ({
      key: h.key,
      provider: h.provider.id,
      model: h.model,
      breaker: h.breaker,
      inFlight: h.inFlight,
      successes: h.successes,
      failures: h.failures,
      latencyMs: h.latencyMs,
      ttftMs: h.ttftMs,
      peakEwmaMs: h.peakEwmaMs,
    }));
  }

  close(): void {
    for (const h of this.healths.values()) h.circuit?.shutdown();
    this.bucketClock?.stop();
  }

  // ---- groups --------------------------------------------------------------------------------

  private groupFor(model: string): Group {
    const group = this.groups.get(model) ?? this.implicit.get(model);
    if (group) return group;
    return this.implicitGroup(model);
  }

  /** A concrete model: its configured deployments, else every provider that serves it (in provider order). */
  private implicitGroup(model: string): Group {
    const entries: DeploymentEntry[] = [];
    const owned: Health[] = [];
    for (const g of this.groups.values()) {
      for (const e of g.entries) {
        if (e.model === model && !entries.some((x) => x.health === e.health)) {
          entries.push(new DeploymentEntry(e.health, 1, e.priority, e.tags, e.contextWindow, e.price));
        }
      }
    }
    if (entries.length === 0) {
      const providers = this.host.providers;
      for (let i = 0; i < providers.length; i++) {
        const p = providers[i]!;
        if (!p.serves(model)) continue;
        const key = `${p.id}/${model}`;
        const known = this.healths.get(key);
        const health = known ?? this.createHealth(key, p, model);
        if (!known) owned.push(health);
        entries.push(new DeploymentEntry(health, 1, i, [], undefined, undefined));
      }
    }
    if (entries.length === 0) throw new NoProviderError(model);
    if (this.implicit.size >= MAX_IMPLICIT_GROUPS) {
      const [oldest, evicted] = this.implicit.entries().next().value!;
      this.implicit.delete(oldest);
      for (const h of evicted.owned) this.forget(h);
    }
    const group = new Group(model, entries, this.defaultStrategy, owned);
    this.implicit.set(model, group);
    return group;
  }

  private buildGroups(models: NonNullable<RouterOptions['models']>): void {
    if (typeof models !== 'object' || models === null) throw new ConfigError('models must be a record of aliases');
    const providers = new Map(this.host.providers.map((p) => [p.id, p] as const));
    for (const [alias, spec] of Object.entries(models)) {
      const list = Array.isArray(spec) ? spec : (spec as ModelGroupConfig)?.deployments;
      if (!Array.isArray(list) || list.length === 0) {
        throw new ConfigError(`models["${alias}"] needs at least one deployment`);
      }
      const strategySpec = Array.isArray(spec) ? undefined : (spec as ModelGroupConfig).strategy;
      const strategy = strategySpec === undefined ? this.defaultStrategy : createStrategy(strategySpec);
      const entries: DeploymentEntry[] = [];
      list.forEach((d: DeploymentConfig, i: number) => {
        const where = `models["${alias}"][${i}]`;
        const entry = this.entryFor(d, where, providers);
        if (entries.some((e) => e.key === entry.key)) {
          throw new ConfigError(`${where}: deployment "${entry.key}" is listed twice; give one a distinct \`key\``);
        }
        entries.push(entry);
      });
      this.groups.set(alias, new Group(alias, entries, strategy));
    }
  }

  private entryFor(d: DeploymentConfig, where: string, providers: ReadonlyMap<string, Provider>): DeploymentEntry {
    if (d === null || typeof d !== 'object') throw new ConfigError(`${where} must be an object`);
    if (typeof d.provider !== 'string') throw new ConfigError(`${where}.provider must be a provider id`);
    const provider = providers.get(d.provider);
    if (!provider) {
      throw new ConfigError(
        `${where}.provider: no provider has the id "${d.provider}" (the gateway has: ${[...providers.keys()].join(', ')})`,
      );
    }
    if (typeof d.model !== 'string' || d.model === '') throw new ConfigError(`${where}.model must be a model name`);
    if (!provider.serves(d.model)) {
      throw new ConfigError(
        `${where}: provider "${d.provider}" does not serve model "${d.model}" (see its \`models\` option)`,
      );
    }
    const weight = d.weight ?? 1;
    if (!(weight > 0) || !Number.isFinite(weight)) throw new ConfigError(`${where}.weight must be a number > 0`);
    const prio = d.priority ?? 0;
    if (!Number.isFinite(prio)) throw new ConfigError(`${where}.priority must be a finite number`);
    const tags = d.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
      throw new ConfigError(`${where}.tags must be an array of strings`);
    }
    if (d.contextWindow !== undefined && !(Number.isInteger(d.contextWindow) && d.contextWindow > 0)) {
      throw new ConfigError(`${where}.contextWindow must be a positive integer (tokens)`);
    }
    if (d.price !== undefined) checkPrice(d.price, `${where}.price`);
    const key = d.key ?? `${d.provider}/${d.model}`;
    if (typeof key !== 'string' || key === '') throw new ConfigError(`${where}.key must be a non-empty string`);
    let health = this.healths.get(key);
    if (health && (health.provider !== provider || health.model !== d.model)) {
      throw new ConfigError(`${where}: key "${key}" already names ${health.provider.id}/${health.model}`);
    }
    health ??= this.createHealth(key, provider, d.model);
    return new DeploymentEntry(health, weight, prio, Object.freeze([...tags]), d.contextWindow, d.price);
  }

  private createHealth(key: string, provider: Provider, model: string): Health {
    const h = new Health(key, provider, model, this.latency, this.now);
    if (this.breaker && this.bucketClock) {
      const probe = this.breaker.healthCheck ? (timeoutMs: number) => probeDeployment(h, timeoutMs) : undefined;
      h.circuit = new Breaker(
        key,
        this.breaker,
        this.bucketClock,
        (from, to) => this.instruments.transition(h, from, to),
        probe,
      );
    }
    if (this.hedge?.delay === 'p95') h.firstByte = [new WindowedHistogram(60_000), new WindowedHistogram(60_000)];
    this.healths.set(key, h);
    this.byTarget.set(h.target, h);
    this.byTarget.set(h.hedgeTarget, h);
    return h;
  }

  private forget(h: Health): void {
    h.circuit?.shutdown();
    this.healths.delete(h.key);
    this.byTarget.delete(h.target);
    this.byTarget.delete(h.hedgeTarget);
  }
}

/** Per-call router options are checked on use: a mistake there is the caller's, and it gets told which field. */
function checkCallOptions(o: RouterCallOptions): void {
  const field = (name: string, message: string) => new InvalidRequestError(`options.router.${name}`, message);
  if (o === null || typeof o !== 'object') throw new InvalidRequestError('options.router', 'must be an object');
  if (o.tags !== undefined && (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string'))) {
    throw field('tags', 'must be an array of strings');
  }
  if (o.maxRetries !== undefined && !(Number.isInteger(o.maxRetries) && o.maxRetries >= 0)) {
    throw field('maxRetries', 'must be an integer >= 0');
  }
  if (o.hedge !== undefined && typeof o.hedge !== 'boolean' && !(typeof o.hedge === 'number' && o.hedge >= 0)) {
    throw field('hedge', 'must be a boolean or a delay in ms >= 0');
  }
  for (const k of ['maxCostUsd', 'maxLatencyMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0)) throw field(k, 'must be a number >= 0');
  }
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(`${name} must be a number of ms > 0`);
  return value;
}

function resolveLatency(o: LatencyOptions | undefined): ResolvedLatency {
  const r: ResolvedLatency = {
    alpha: o?.alpha ?? 0.3,
    halfLifeMs: o?.halfLifeMs ?? 10_000,
    peakDecayMs: o?.peakDecayMs ?? 10_000,
    failurePenaltyMs: o?.failurePenaltyMs ?? 1000,
  };
  if (!(r.alpha > 0 && r.alpha <= 1)) throw new ConfigError('latency.alpha must be in (0, 1]');
  for (const k of ['halfLifeMs', 'peakDecayMs'] as const) {
    if (!(r[k] > 0) || !Number.isFinite(r[k])) throw new ConfigError(`latency.${k} must be a number > 0`);
  }
  if (!(r.failurePenaltyMs >= 0) || !Number.isFinite(r.failurePenaltyMs)) {
    throw new ConfigError('latency.failurePenaltyMs must be a number >= 0');
  }
  return r;
}

function checkPrice(p: Price, where: string): void {
  if (
    p === null ||
    typeof p !== 'object' ||
    !(p.inputPerMTok >= 0 && Number.isFinite(p.inputPerMTok)) ||
    !(p.outputPerMTok >= 0 && Number.isFinite(p.outputPerMTok))
  ) {
    throw new ConfigError(`${where} must be { inputPerMTok, outputPerMTok }, numbers >= 0 (USD per million tokens)`);
  }
}
