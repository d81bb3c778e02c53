import { ConfigError } from '@flowgate/core';

/** One model the selector may pick. */
export interface ModelTier {
  model: string;
  /** How good its answers are, 0..1, relative to your other tiers. */
  quality: number;
  /** How fast it answers, any unit where higher is faster (e.g. output tokens per second). */
  speed: number;
}

export interface SelectionOptions {
  /** The models to choose from. Their prices come from the price table. */
  tiers: ModelTier[];
  /** Request models that ask for a choice (default `['auto']`). */
  aliases?: string[];
  /** Below this complexity a request is simple: the fastest adequate tier wins (default 0.3). */
  simpleBelow?: number;
  /** From this complexity on a request is hard: the highest quality within budget wins (default 0.7). */
  complexAbove?: number;
}

/** The selector's decision, on the span (`flowgate.model_selection.*`) and in `response.flowgate.modelSelection`. */
export interface ModelChoice {
  alias: string;
  model: string;
  complexity: number;
  strategy: 'fastest' | 'cheapest-adequate' | 'highest-quality' | 'fallback';
  reason: string;
  /** Estimated upper bound of the call's cost on the chosen model. */
  estimateUsd: number;
}

/** A tier with what the request would cost and whether it fits there. */
export interface TierCandidate extends ModelTier {
  estimateUsd: number;
  fitsContext: boolean;
}

export function validateSelection(s: SelectionOptions): Required<SelectionOptions> {
  if (!s || !Array.isArray(s.tiers) || s.tiers.length === 0) {
    throw new ConfigError('selection.tiers must list at least one model');
  }
  for (const t of s.tiers) {
    if (typeof t.model !== 'string' || !t.model) throw new ConfigError('selection.tiers[].model must be a model name');
    if (!(t.quality >= 0 && t.quality <= 1)) {
      throw new ConfigError(`selection tier "${t.model}": quality must be between 0 and 1, got ${t.quality}`);
    }
    if (!(t.speed > 0 && Number.isFinite(t.speed))) {
      throw new ConfigError(`selection tier "${t.model}": speed must be a positive number, got ${t.speed}`);
    }
  }
  const simpleBelow = s.simpleBelow ?? 0.3;
  const complexAbove = s.complexAbove ?? 0.7;
  if (!(simpleBelow >= 0 && simpleBelow <= complexAbove && complexAbove <= 1)) {
    throw new ConfigError('selection: need 0 <= simpleBelow <= complexAbove <= 1');
  }
  return { tiers: s.tiers, aliases: s.aliases ?? ['auto'], simpleBelow, complexAbove };
}

/**
 * Picks a tier: simple requests go to the fastest tier whose quality covers the complexity, hard ones
 * to the highest quality within budget, the rest to the cheapest adequate tier. Only tiers that fit
 * the context window and the per-request budget are eligible; when none is, the cheapest that fits
 * the context is returned (and the budget check decides).
 */
export function chooseTier(
  alias: string,
  complexity: number,
  candidates: readonly TierCandidate[],
  budgetUsd: number | undefined,
  s: Required<SelectionOptions>,
): ModelChoice {
  const c = round(complexity);
  const withinBudget = (t: TierCandidate) => budgetUsd === undefined || t.estimateUsd <= budgetUsd;
  const eligible = candidates.filter((t) => t.fitsContext && withinBudget(t));
  const choice = (t: TierCandidate, strategy: ModelChoice['strategy'], reason: string): ModelChoice => ({
    alias,
    model: t.model,
    complexity: c,
    strategy,
    reason,
    estimateUsd: t.estimateUsd,
  });
  const budgetNote = budgetUsd === undefined ? '' : ` within the $${budgetUsd} budget`;

  if (eligible.length === 0) {
    const fitting = candidates.filter((t) => t.fitsContext);
    const pool = fitting.length > 0 ? fitting : candidates;
    const cheapest = best(pool, (a, b) => a.estimateUsd - b.estimateUsd || b.quality - a.quality);
    const why = fitting.length > 0 ? `no tier fits${budgetNote}` : 'no tier fits the context window';
    return choice(cheapest, 'fallback', `complexity ${c}: ${why}; took the cheapest`);
  }
  const adequate = eligible.filter((t) => t.quality >= c);
  if (c >= s.complexAbove || adequate.length === 0) {
    const top = best(eligible, (a, b) => b.quality - a.quality || a.estimateUsd - b.estimateUsd);
    const why = c >= s.complexAbove ? `>= ${s.complexAbove} (complex)` : '(no tier reaches it)';
    return choice(top, 'highest-quality', `complexity ${c} ${why}: highest quality${budgetNote}`);
  }
  if (c < s.simpleBelow) {
    const fast = best(adequate, (a, b) => b.speed - a.speed || a.estimateUsd - b.estimateUsd);
    return choice(
      fast,
      'fastest',
      `complexity ${c} < ${s.simpleBelow} (simple): fastest tier with quality >= ${c}${budgetNote}`,
    );
  }
  const cheap = best(adequate, (a, b) => a.estimateUsd - b.estimateUsd || b.quality - a.quality);
  return choice(
    cheap,
    'cheapest-adequate',
    `complexity ${c} (moderate): cheapest tier with quality >= ${c}${budgetNote}`,
  );
}

function best<T>(items: readonly T[], cmp: (a: T, b: T) => number): T {
  let top = items[0]!;
  for (let i = 1; i < items.length; i++) if (cmp(items[i]!, top) < 0) top = items[i]!;
  return top;
}

const round = (v: number) => Math.round(v * 1000) / 1000;
