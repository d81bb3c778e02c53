import type { CallContext } from '@flowgate/core';
import type { Deployment } from './deployment.js';
import type { Price } from './prices.js';

/**
 * What a strategy may look at besides the candidates. The router reuses one object per gateway: read it
 * during `select`, do not keep it.
 */
export interface SelectContext {
  /** The call being routed: `request`, `streaming`, `metadata` (tenant, user, tags), `options`. */
  readonly call: CallContext;
  /** The model name the call asked for (an alias or a concrete model). Key per-group state by it. */
  readonly group: string;
  /** The router's clock, ms (`performance.now()` unless the router was given a `clock`). */
  readonly now: number;
  /** The deployment's own price, else the token optimizer's table, else the router's `prices`. */
  priceOf(deployment: Deployment): Price | undefined;
  /** Uniform random number in [0, 1) (the router's `random` option makes it reproducible). */
  random(): number;
}

/**
 * A routing strategy: orders the deployments a call may use. The router calls `select` once per call with
 * the healthy candidates (open circuits and deployments lacking the call's required tags are already left
 * out; never an empty list) and tries the result in order: the first is the first attempt, the others are
 * the fallbacks. Return every candidate you are willing to use, best first; leave out the ones this call
 * must not use. Keep it fast and synchronous: it runs on every call.
 */
export interface Strategy {
  readonly name: string;
  select(candidates: readonly Deployment[], ctx: SelectContext): readonly Deployment[];
}

/** The built-in strategies by name. */
export type StrategyName =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'priority'
  | 'least-latency'
  | 'least-busy'
  | 'p2c-peak-ewma'
  | 'cost';

/** `[first, ...rest]` without `first` twice, `rest` in its given order. */
export function withFirst(first: Deployment, rest: readonly Deployment[]): Deployment[] {
  const out: Deployment[] = [first];
  for (const d of rest) if (d !== first) out.push(d);
  return out;
}

/** The list rotated to start at `start`. */
export function rotate<T>(list: readonly T[], start: number): T[] {
  const n = list.length;
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = list[(start + i) % n]!;
  return out;
}

/** Sorts by `score` ascending (stable), shuffling the members of the best tie group so that ties share traffic. */
export function byScore(
  candidates: readonly Deployment[],
  score: (d: Deployment) => number,
  random: () => number,
  tolerance = 0,
): Deployment[] {
  const scored = candidates.map((d) => ({ d, s: score(d) }));
  scored.sort((a, b) => a.s - b.s);
  const best = scored[0]!.s;
  const limit = best + Math.abs(best) * tolerance;
  let ties = 1;
  while (ties < scored.length && scored[ties]!.s <= limit) ties++;
  if (ties > 1) {
    const pick = Math.floor(random() * ties);
    const chosen = scored[pick]!;
    scored[pick] = scored[0]!;
    scored[0] = chosen;
  }
  return scored.map((x) => x.d);
}
