import {
  type CallContext,
  type CallMiddleware,
  type ChatCompletion,
  type ChatCompletionRequest,
  ConfigError,
  createStateKey,
  type ErrorObserver,
  FlowgateError,
  type Plugin,
  type PluginHost,
  type RequestHook,
  type ResponseObserver,
  semconv,
} from '@flowgate/core';
import { diag } from '@opentelemetry/api';
import { type BudgetState, type Reservation, TenantBudgets, type TenantLimits } from './budget.js';
import { type BudgetStore, memoryBudgetStore } from './budget-store.js';
import { estimateComplexity } from './complexity.js';
import { type ContextFit, type ContextPolicy, trimToFit } from './context-fit.js';
import { type CostInfo, costOf, estimateUsd } from './cost.js';
import { CostAttributeSets } from './cost-attributes.js';
import { CostToday } from './cost-today.js';
import {
  BudgetExceededError,
  BudgetUnavailableError,
  ContextWindowExceededError,
  UnpricedModelError,
} from './errors.js';
import { chooseTier, type ModelChoice, type SelectionOptions, validateSelection } from './model-selection.js';
import { bundledPrices, type ModelInfo, PriceTable } from './prices.js';
import {
  type CountableRequest,
  O200K_EXACT,
  type PromptTokens,
  TokenCounter,
  type TokenCounterOptions,
} from './tokenizer.js';
import { UNTAGGED, UsageLedger, type UsageReport } from './usage-report.js';

/** Per-call options: `gateway.complete(req, { tokenOptimizer: { budgetUsd: 0.01 } })`. */
export interface TokenOptimizerCallOptions {
  /** Per-request budget of this call, in USD (overrides `budget.perRequestUsd`). */
  budgetUsd?: number;
  /** Context policy of this call (overrides `context.policy`). */
  context?: ContextPolicy;
}

/** What the budget check decided, in `response.flowgate.budget`. */
export interface BudgetMeta {
  /** Upper-bound estimate of the call before it was made. */
  estimateUsd: number;
  /** The requested model, when the per-request budget moved the call to a cheaper one. */
  downgradedFrom?: string;
  /** Tenant whose daily/monthly budget holds a reservation for the call. */
  tenant?: string;
}

declare module '@flowgate/core' {
  interface CallOptions {
    tokenOptimizer?: TokenOptimizerCallOptions;
  }
  interface CallMeta {
    /** Cost of the call from the provider's usage (token-optimizer). */
    cost?: CostInfo;
    /** The model chosen for an alias such as `auto` (token-optimizer). */
    modelSelection?: ModelChoice;
    /** What context fitting dropped (token-optimizer). */
    context?: ContextFit;
    /** The budget estimate and any downgrade (token-optimizer). */
    budget?: BudgetMeta;
  }
}

export interface BudgetOptions {
  /** Upper bound on one call's estimated cost, in USD. */
  perRequestUsd?: number;
  /** Over the per-request budget: refuse (`reject`, default) or move to a cheaper model (`downgrade`). */
  onRequestOverBudget?: 'reject' | 'downgrade';
  /** Models to downgrade to, in order of preference (default: the selection tiers, best quality first). */
  downgradeTo?: string[];
  /** Daily/monthly limits for every tenant. */
  tenant?: TenantLimits;
  /** Limits per tenant id, merged over `tenant`. */
  tenants?: Record<string, TenantLimits>;
  /** Where spend is kept (default: `memoryBudgetStore()`; `redisBudgetStore()` to share it). Closed with the gateway. */
  store?: BudgetStore;
  /** The store fails: let the call through and count it (`allow`, default) or refuse it (`reject`). */
  onStoreError?: 'allow' | 'reject';
  /** A budget applies but the model has no price: refuse (`reject`, default) or let it through unchecked (`allow`). */
  onUnpriced?: 'reject' | 'allow';
  /** Tenant id of calls without `metadata.tenant` (default `default`). */
  anonymousTenant?: string;
}

export interface TokenOptimizerOptions {
  /** Prices and limits to add or override (merged over the bundled `prices.json`). */
  prices?: Record<string, ModelInfo>;
  /** Start from the bundled `prices.json` (default true). */
  bundledPrices?: boolean;
  /**
   * Memo size and BPE engine of the token counter (default: gpt-tokenizer, 20 000 texts). `prewarm`
   * (default true): after a call whose prompt was counted, count its answer in the background, so
   * that the next turn of the conversation, which carries the answer back, finds it memoized.
   */
  tokenizer?: Omit<TokenCounterOptions, 'prices'> & { prewarm?: boolean };
  /** Output tokens assumed for estimates when a request sets no max tokens (default 4096, capped at the model's maximum). */
  defaultMaxOutputTokens?: number;
  budget?: BudgetOptions;
  selection?: SelectionOptions;
  /** Context fitting: `off` (default), `fail`, or `trim` (drop the oldest turns). */
  context?: { policy?: ContextPolicy };
  /** Distinct (tenant, app, model) rows kept by the usage report (default 10 000). */
  maxReportRows?: number;
}

/** A cost estimate made before a call. */
export interface CostEstimate {
  model: string;
  promptTokens: number;
  maxOutputTokens: number;
  /** Upper bound in USD; `undefined` for a model without a price. */
  usd: number | undefined;
  priced: boolean;
}

export interface TokenOptimizer extends Plugin {
  readonly name: 'token-optimizer';
  /** The price table: `prices.priceOf(model)`, `prices.set(model, price)`. */
  readonly prices: PriceTable;
  /** The memoizing token counter (tiktoken). */
  readonly tokens: TokenCounter;
  /** Prompt tokens of a request for its model. */
  countTokens(request: CountableRequest): PromptTokens;
  /** Upper-bound cost of a request before sending it. */
  estimateCost(request: ChatCompletionRequest): CostEstimate;
  /** Requests, tokens, cost and averages per tenant, app tag and model since creation or `resetUsage()`. */
  usageReport(): UsageReport;
  resetUsage(): void;
  /** Daily and monthly spend and limits of a tenant (default: the anonymous tenant). */
  budgetState(tenant?: string): Promise<BudgetState>;
  /** What dashboards show (the server's `/admin/performance`): spend of this UTC day, in total and per model. */
  adminSummary(): { costTodayUsd: number; costTodayByModel: Record<string, number>; day: string };
}

/** Per-call state. */
interface CallState {
  /** Model the estimate is for. */
  model?: string;
  estimateUsd?: number;
  reservation?: Reservation;
  /** A reply came back from the provider (a stream may then fail after tokens were billed). */
  replied?: boolean;
  /** The prompt was counted: count the answer too, for the next turn. */
  counted?: boolean;
  settled?: boolean;
}

const STATE = createStateKey<CallState>('token-optimizer');
const MAX_WARNED = 1000;

/**
 * Token counting, prices, cost, budgets, model selection and context fitting.
 *
 * Tokens are counted only where a decision needs them: with no budget, selection or context policy for
 * a call, the plugin only prices it after it finished (from the provider's usage). The tenant-budget
 * middleware is installed only when tenant limits are configured.
 */
export function tokenOptimizer(options: TokenOptimizerOptions = {}): TokenOptimizer {
  const prices = new PriceTable(options.bundledPrices === false ? undefined : bundledPrices());
  for (const [model, info] of Object.entries(options.prices ?? {})) prices.set(model, info);
  const { prewarm: prewarmOption, ...counterOptions } = options.tokenizer ?? {};
  const tokens = new TokenCounter({ prices, ...counterOptions });
  const prewarm = prewarmOption !== false;
  const ledger = new UsageLedger(options.maxReportRows);
  const costToday = new CostToday();
  const defaultMaxOut = options.defaultMaxOutputTokens ?? 4096;
  if (!(Number.isInteger(defaultMaxOut) && defaultMaxOut > 0)) {
    throw new ConfigError(`defaultMaxOutputTokens must be a positive integer, got ${defaultMaxOut}`);
  }
  const budget = options.budget ?? {};
  const selection = options.selection ? validateSelection(options.selection) : undefined;
  const aliases = new Set(selection?.aliases ?? []);
  const contextPolicy = options.context?.policy ?? 'off';
  checkPolicy(contextPolicy, 'context.policy');
  const perRequestUsd = budget.perRequestUsd;
  if (perRequestUsd !== undefined && !(perRequestUsd >= 0 && Number.isFinite(perRequestUsd))) {
    throw new ConfigError(`budget.perRequestUsd must be a finite number >= 0, got ${perRequestUsd}`);
  }
  checkChoice(budget.onRequestOverBudget, ['reject', 'downgrade'], 'budget.onRequestOverBudget');
  checkChoice(budget.onStoreError, ['allow', 'reject'], 'budget.onStoreError');
  checkChoice(budget.onUnpriced, ['reject', 'allow'], 'budget.onUnpriced');
  const downgrade = budget.onRequestOverBudget === 'downgrade';
  const downgradeTo =
    budget.downgradeTo ??
    (selection ? [...selection.tiers].sort((a, b) => b.quality - a.quality).map((t) => t.model) : []);
  if (downgrade && downgradeTo.length === 0) {
    throw new ConfigError('budget.onRequestOverBudget "downgrade" needs budget.downgradeTo or selection.tiers');
  }
  const anonymous = budget.anonymousTenant ?? 'default';
  const hasTenantLimits = budget.tenant !== undefined || Object.keys(budget.tenants ?? {}).length > 0;
  const store = budget.store ?? memoryBudgetStore();
  const tenantBudgets = new TenantBudgets(store, budget.tenant, budget.tenants ?? {});
  const rejectUnpriced = budget.onUnpriced !== 'allow';
  const warned = new Set<string>();

  const maxOutputOf = (req: ChatCompletionRequest, model = req.model): number => {
    const asked = req.max_completion_tokens ?? req.max_tokens;
    if (asked !== undefined) return asked;
    const cap = prices.infoOf(model)?.maxOutputTokens;
    return cap !== undefined && cap < defaultMaxOut ? cap : defaultMaxOut;
  };

  const countFor = (req: ChatCompletionRequest, model = req.model): PromptTokens =>
    tokens.count({ model, messages: req.messages, tools: req.tools, tool_choice: req.tool_choice });

  const estimateCost = (req: ChatCompletionRequest): CostEstimate => {
    const promptTokens = countFor(req).total;
    const maxOutputTokens = maxOutputOf(req);
    const price = prices.priceOf(req.model);
    return {
      model: req.model,
      promptTokens,
      maxOutputTokens,
      usd: price ? estimateUsd(promptTokens, maxOutputTokens, price) : undefined,
      priced: price !== undefined,
    };
  };

  const plugin: TokenOptimizer = {
    name: 'token-optimizer',
    prices,
    tokens,
    countTokens: (request) => tokens.count(request),
    estimateCost,
    usageReport: () => ledger.report(),
    resetUsage: () => ledger.reset(),
    budgetState: (tenant = anonymous) => tenantBudgets.state(tenant),
    adminSummary: () => {
      const today = costToday.snapshot();
      return { costTodayUsd: today.usd, costTodayByModel: today.byModel, day: today.day };
    },

    setup(host: PluginHost) {
      const { meter } = host;
      const costCounter = meter.createCounter('flowgate.cost.usd', {
        unit: 'USD',
        description: 'Cost of LLM calls from provider-reported usage, by model, provider and tenant',
      });
      const unpricedCounter = meter.createCounter('flowgate.cost.unpriced', {
        unit: '{request}',
        description: 'Calls whose model has no price in the price table (their cost is unknown)',
      });
      const budgetExceeded = meter.createCounter('flowgate.budget.exceeded', {
        unit: '{request}',
        description: 'Calls refused by a budget, by scope (request, day, month)',
      });
      const budgetDowngrades = meter.createCounter('flowgate.budget.downgrades', {
        unit: '{request}',
        description: 'Calls moved to a cheaper model by the per-request budget',
      });
      const storeErrors = meter.createCounter('flowgate.budget.store_errors', {
        unit: '{error}',
        description: 'Budget store operations that failed (the call went on or was refused per onStoreError)',
      });
      const contextTrimmed = meter.createCounter('flowgate.context.trimmed', {
        unit: '{request}',
        description: 'Requests whose oldest turns were dropped to fit the context window',
      });
      const selections = meter.createCounter('flowgate.model_selection.choices', {
        unit: '{request}',
        description: 'Models chosen for an alias, by model and strategy',
      });
      const internalErrors = meter.createCounter('flowgate.token_optimizer.errors', {
        unit: '{error}',
        description: 'Failures of the plugin itself (counting, pricing); the call went on without its decision',
      });
      const systemOf = new Map(host.providers.map((p) => [p.id, p.system] as const));
      const costAttributes = new CostAttributeSets();
      const internalError = (stage: string, err: unknown) => {
        internalErrors.add(1, { 'flowgate.token_optimizer.stage': stage });
        diag.error(`flowgate token-optimizer: ${stage} step failed; the call goes on without it`, err);
      };

      let closed = false;
      host.onClose(async () => {
        closed = true;
        tokens.free();
        await store.close?.();
      });

      /** Answers to count once their calls are over, off their path (see `tokenizer.prewarm`). */
      let toPrewarm: { model: string; response: ChatCompletion }[] = [];
      const prewarmQueued = () => {
        const batch = toPrewarm;
        toPrewarm = [];
        if (closed) return;
        for (const { model, response } of batch) {
          try {
            const { encoding } = tokens.tokenizerFor(model);
            for (const c of response.choices) if (c.message.content) tokens.text(c.message.content, encoding);
          } catch (err) {
            diag.debug('flowgate token-optimizer: pre-counting an answer failed', err);
          }
        }
      };
      /** Queues the answer for counting: one `setImmediate` per batch of calls, not one per call. */
      const prewarmAnswer = (model: string, response: ChatCompletion) => {
        if (toPrewarm.push({ model, response }) === 1) setImmediate(prewarmQueued);
      };

      const reportUnpriced = (model: string, where: string) => {
        unpricedCounter.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model });
        if (!warned.has(model) && warned.size < MAX_WARNED) {
          warned.add(model);
          diag.warn(
            `flowgate token-optimizer: model "${model}" has no price (${where}); its cost is unknown. Add it with tokenOptimizer({ prices }) or plugin.prices.set().`,
          );
        }
      };

      const stateOf = (ctx: CallContext): CallState => {
        let st = ctx.get(STATE);
        if (!st) {
          st = {};
          ctx.set(STATE, st);
        }
        return st;
      };

      // ---- before the call: selection, context fitting, per-request budget ------------------
      const requestHook: RequestHook = (ctx) => {
        const callOpts = ctx.options.tokenOptimizer;
        const budgetUsd = callOpts?.budgetUsd ?? perRequestUsd;
        const policy = callOpts?.context ?? contextPolicy;
        // The common case costs one check: nothing to select, fit or bound.
        if (budgetUsd === undefined && policy === 'off' && !aliases.has(ctx.request.model)) return;
        if (callOpts?.budgetUsd !== undefined && !(callOpts.budgetUsd >= 0 && Number.isFinite(callOpts.budgetUsd))) {
          throw new ConfigError(`tokenOptimizer.budgetUsd must be a finite number >= 0, got ${callOpts.budgetUsd}`);
        }
        checkPolicy(policy, 'tokenOptimizer.context');
        try {
          decide(ctx, budgetUsd, policy);
        } catch (err) {
          // Our own refusals are typed; anything else is the plugin failing, which must not fail the call.
          if (err instanceof FlowgateError) throw err;
          internalError('request', err);
        }
      };

      const decide = (ctx: CallContext, budgetUsd: number | undefined, policy: ContextPolicy): void => {
        let req = ctx.request;
        const recording = ctx.span.isRecording();

        if (selection && aliases.has(req.model)) {
          const complexity = estimateComplexity(req, tokens.count(req, O200K_EXACT).total);
          const candidates = selection.tiers.map((t) => {
            const info = prices.infoOf(t.model);
            const prompt = countFor(req, t.model).total;
            const maxOut = maxOutputOf(req, t.model);
            return {
              ...t,
              estimateUsd: info ? estimateUsd(prompt, maxOut, info) : Number.POSITIVE_INFINITY,
              fitsContext: info?.contextWindow === undefined || prompt + maxOut <= info.contextWindow,
            };
          });
          const choice = chooseTier(req.model, complexity.score, candidates, budgetUsd, selection);
          req = { ...req, model: choice.model };
          stateOf(ctx).counted = true;
          ctx.meta.modelSelection = choice;
          selections.add(1, {
            [semconv.ATTR_GEN_AI_REQUEST_MODEL]: choice.model,
            'flowgate.model_selection.strategy': choice.strategy,
          });
          if (recording) {
            ctx.span.setAttributes({
              'flowgate.model_selection.alias': choice.alias,
              'flowgate.model_selection.model': choice.model,
              'flowgate.model_selection.strategy': choice.strategy,
              'flowgate.model_selection.complexity': choice.complexity,
              'flowgate.model_selection.reason': choice.reason,
            });
          }
        }

        let prompt: PromptTokens | undefined;
        if (policy !== 'off') {
          const window = prices.infoOf(req.model)?.contextWindow;
          if (window !== undefined) {
            prompt = countFor(req);
            stateOf(ctx).counted = true;
            const maxOut = maxOutputOf(req);
            const limit = window - maxOut;
            if (prompt.total > limit) {
              if (policy === 'fail') throw new ContextWindowExceededError(req.model, prompt.total, maxOut, window);
              const fitted = trimToFit(req.messages, prompt.messages, prompt.total, limit);
              if (!fitted) {
                throw new ContextWindowExceededError(
                  req.model,
                  prompt.total,
                  maxOut,
                  window,
                  ' even with every older turn dropped (the system prompt and the latest turn are never cut)',
                );
              }
              const fit: ContextFit = {
                trimmed: true,
                droppedIndexes: fitted.dropped,
                droppedMessages: fitted.dropped.length,
                promptTokens: prompt.total,
                fittedTokens: fitted.tokens,
                limit,
              };
              req = { ...req, messages: fitted.messages };
              prompt = undefined;
              ctx.meta.context = fit;
              contextTrimmed.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: req.model });
              if (recording) {
                ctx.span.setAttributes({
                  'flowgate.context.dropped_messages': fit.droppedMessages,
                  'flowgate.context.dropped_indexes': fit.droppedIndexes,
                  'flowgate.context.prompt_tokens': fit.promptTokens,
                  'flowgate.context.fitted_tokens': fit.fittedTokens,
                  'flowgate.context.limit': fit.limit,
                });
              }
            }
          }
        }

        if (budgetUsd !== undefined) {
          const price = prices.priceOf(req.model);
          if (!price) {
            reportUnpriced(req.model, 'per-request budget');
            if (rejectUnpriced) throw new UnpricedModelError(req.model);
          } else {
            prompt ??= countFor(req);
            let estimate = estimateUsd(prompt.total, maxOutputOf(req), price);
            let downgradedFrom: string | undefined;
            if (estimate > budgetUsd) {
              const cheaper = downgrade ? cheapestWithin(req, budgetUsd) : undefined;
              if (!cheaper) {
                budgetExceeded.add(1, { 'flowgate.budget.scope': 'request' });
                throw new BudgetExceededError({
                  scope: 'request',
                  model: req.model,
                  estimateUsd: estimate,
                  limitUsd: budgetUsd,
                });
              }
              downgradedFrom = req.model;
              req = { ...req, model: cheaper.model };
              estimate = cheaper.estimateUsd;
              budgetDowngrades.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: downgradedFrom });
            }
            const st = stateOf(ctx);
            st.model = req.model;
            st.estimateUsd = estimate;
            st.counted = true;
            ctx.meta.budget = downgradedFrom ? { estimateUsd: estimate, downgradedFrom } : { estimateUsd: estimate };
            if (recording) {
              ctx.span.setAttribute('flowgate.budget.estimate_usd', estimate);
              if (downgradedFrom) ctx.span.setAttribute('flowgate.budget.downgraded_from', downgradedFrom);
            }
          }
        }
        if (req !== ctx.request) ctx.request = req;
      };

      /** The first model of the downgrade list that fits the budget and the context window. */
      const cheapestWithin = (req: ChatCompletionRequest, budgetUsd: number) => {
        for (const model of downgradeTo) {
          if (model === req.model) continue;
          const info = prices.infoOf(model);
          if (!info) continue;
          const prompt = countFor(req, model).total;
          const maxOut = maxOutputOf(req, model);
          if (info.contextWindow !== undefined && prompt + maxOut > info.contextWindow) continue;
          const usd = estimateUsd(prompt, maxOut, info);
          if (usd <= budgetUsd) return { model, estimateUsd: usd };
        }
        return undefined;
      };

      // ---- around the call: tenant budgets (check-and-reserve, then settle) -----------------
      const reserve: CallMiddleware = async (ctx, next) => {
        const tenant = ctx.metadata.tenant ?? anonymous;
        if (!tenantBudgets.applies(tenant)) return next();
        const st = stateOf(ctx);
        const model = ctx.request.model;
        let estimate = st.model === model ? st.estimateUsd : undefined;
        if (estimate === undefined) {
          const price = prices.priceOf(model);
          if (!price) {
            reportUnpriced(model, `budget of tenant "${tenant}"`);
            if (rejectUnpriced) throw new UnpricedModelError(model);
            return next();
          }
          try {
            estimate = estimateUsd(countFor(ctx.request).total, maxOutputOf(ctx.request), price);
            st.counted = true;
          } catch (err) {
            internalError('budget', err);
            return next();
          }
        }
        let outcome: Awaited<ReturnType<TenantBudgets['reserve']>>;
        try {
          outcome = await tenantBudgets.reserve(tenant, estimate);
        } catch (err) {
          storeErrors.add(1, { 'flowgate.budget.store': store.kind, 'flowgate.budget.operation': 'reserve' });
          diag.warn('flowgate token-optimizer: budget store failed to reserve', err);
          if (budget.onStoreError === 'reject') throw new BudgetUnavailableError(err);
          return next();
        }
        if (outcome && !outcome.ok) {
          budgetExceeded.add(1, { 'flowgate.budget.scope': outcome.scope });
          throw new BudgetExceededError({
            scope: outcome.scope,
            model,
            estimateUsd: estimate,
            limitUsd: outcome.limitUsd,
            spentUsd: outcome.spentUsd,
            tenant,
          });
        }
        if (outcome?.ok) {
          st.reservation = outcome.reservation;
          ctx.meta.budget = { ...ctx.meta.budget, estimateUsd: estimate, tenant };
        }
        const reply = await next();
        st.replied = true;
        return reply;
      };

      const settle = async (st: CallState, actualUsd: number | undefined, release: boolean): Promise<void> => {
        const r = st.reservation;
        if (!r || st.settled) return;
        st.settled = true;
        try {
          if (release) await tenantBudgets.release(r);
          else await tenantBudgets.settle(r, actualUsd);
        } catch (err) {
          storeErrors.add(1, { 'flowgate.budget.store': store.kind, 'flowgate.budget.operation': 'settle' });
          diag.warn('flowgate token-optimizer: budget store failed to settle a reservation', err);
        }
      };

      // ---- after the call: cost, usage report, settlement -----------------------------------
      const onResponse: ResponseObserver = (ctx, response: ChatCompletion) => {
        const st = ctx.get(STATE);
        if (prewarm && st?.counted) prewarmAnswer(ctx.request.model, response);
        const attemptModel = lastOkModel(ctx);
        // No successful attempt: the answer came from a cache, nothing was billed.
        const billed = attemptModel !== NO_OK_ATTEMPT;
        const usage = response.usage;
        if (!billed || !usage) return st ? settle(st, undefined, !billed) : undefined;
        let model = response.model || attemptModel || ctx.request.model;
        let price = prices.priceOf(model);
        if (!price && attemptModel && attemptModel !== model) {
          // A provider may answer with a deployment name the table does not know: price the target model.
          const p = prices.priceOf(attemptModel);
          if (p) {
            price = p;
            model = attemptModel;
          }
        }
        const cost = costOf(usage, model, price);
        ctx.meta.cost = cost;
        const tenant = ctx.metadata.tenant;
        if (cost.usd === undefined) reportUnpriced(model, 'cost');
        else {
          const system = ctx.meta.provider === undefined ? undefined : systemOf.get(ctx.meta.provider);
          costCounter.add(cost.usd, costAttributes.get(model, system, tenant));
          costToday.add(model, cost.usd);
        }
        if (ctx.span.isRecording()) {
          ctx.span.setAttribute('flowgate.cost.priced', cost.priced);
          if (cost.usd !== undefined) ctx.span.setAttribute('flowgate.cost.usd', cost.usd);
        }
        ledger.record(tenant ?? UNTAGGED, ctx.metadata.tags?.app ?? UNTAGGED, cost, performance.now() - ctx.startTime);
        if (st?.reservation) return settle(st, cost.usd, false);
        return undefined;
      };

      const onError: ErrorObserver = (ctx) => {
        const st = ctx.get(STATE);
        // Failed before the provider answered: give the reservation back. A stream that failed after
        // it started may have been billed for what it produced: keep the estimate as the charge.
        if (st?.reservation) return settle(st, undefined, !st.replied);
        return undefined;
      };

      host.onRequest(requestHook);
      if (hasTenantLimits) {
        host.useCall(reserve);
        host.onError(onError);
      }
      host.onResponse(onResponse);
      const startup: Promise<void>[] = [];
      const ready = (store as { ready?: () => Promise<void> }).ready;
      if (hasTenantLimits && typeof ready === 'function') startup.push(ready.call(store).catch(() => {}));
      // Building a WASM encoder takes a few hundred milliseconds: do it before the first call when
      // calls will be counted, instead of on that call's path.
      if (hasTenantLimits || perRequestUsd !== undefined || selection || contextPolicy !== 'off') {
        startup.push(
          new Promise<void>((resolve) => {
            setImmediate(() => {
              try {
                if (!closed) tokens.text('warm-up', 'o200k_base');
              } catch (err) {
                internalError('warm-up', err);
              }
              resolve();
            });
          }),
        );
      }
      return startup.length > 0 ? Promise.all(startup).then(() => {}) : undefined;
    },
  };
  return plugin;
}

/** What `lastOkModel` returns for a call no provider answered (a cache hit): nothing was billed. */
const NO_OK_ATTEMPT = Symbol('no ok attempt');

/** The model of the call's last successful attempt (undefined if it named none). */
function lastOkModel(ctx: CallContext): string | undefined | typeof NO_OK_ATTEMPT {
  const attempts = ctx.meta.attempts;
  for (let i = attempts.length - 1; i >= 0; i--) if (attempts[i]!.outcome === 'ok') return attempts[i]!.model;
  return NO_OK_ATTEMPT;
}

function checkChoice(value: string | undefined, allowed: readonly string[], where: string): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new ConfigError(`${where} must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got "${value}"`);
  }
}

function checkPolicy(policy: string, where: string): void {
  if (policy !== 'off' && policy !== 'fail' && policy !== 'trim') {
    throw new ConfigError(`${where} must be "off", "fail" or "trim", got "${policy}"`);
  }
}
