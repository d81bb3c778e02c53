import { ConfigError } from '@flowgate/core';
import type { BudgetCounter, BudgetStore } from './budget-store.js';
import { fromMicros, toMicros } from './cost.js';
import type { BudgetScope } from './errors.js';

/** Spend limits of one tenant, in USD. Days and months are UTC calendar periods. */
export interface TenantLimits {
  dailyUsd?: number;
  monthlyUsd?: number;
}

/** One period of a tenant's budget, as `budgetState()` reports it. */
export interface BudgetPeriodState {
  /** `2026-11-28` for a day, `2026-11` for a month (UTC). */
  period: string;
  limitUsd: number | undefined;
  /** Spent, plus reservations of calls still in flight. */
  spentUsd: number;
  remainingUsd: number | undefined;
}

export interface BudgetState {
  tenant: string;
  store: string;
  day: BudgetPeriodState;
  month: BudgetPeriodState;
}

/** A reservation held for a call in flight. */
export interface Reservation {
  tenant: string;
  counters: BudgetCounter[];
  micros: number;
}

export type ReserveOutcome =
  | { ok: true; reservation: Reservation }
  | { ok: false; scope: BudgetScope; limitUsd: number; spentUsd: number };

const DAY_TTL_S = 3 * 24 * 3600;
const MONTH_TTL_S = 40 * 24 * 3600;

/** Per-tenant daily and monthly budgets over a store. */
export class TenantBudgets {
  constructor(
    readonly store: BudgetStore,
    private readonly defaults: TenantLimits | undefined,
    private readonly perTenant: Readonly<Record<string, TenantLimits>>,
    private readonly now: () => number = Date.now,
  ) {
    if (defaults) checkLimits('budget.tenant', defaults);
    for (const [t, l] of Object.entries(perTenant)) checkLimits(`budget.tenants["${t}"]`, l);
  }

  limitsFor(tenant: string): TenantLimits | undefined {
    const own = this.perTenant[tenant];
    if (own) return { ...this.defaults, ...own };
    return this.defaults;
  }

  /** Whether any daily or monthly limit applies to `tenant`. */
  applies(tenant: string): boolean {
    const l = this.limitsFor(tenant);
    return l !== undefined && (l.dailyUsd !== undefined || l.monthlyUsd !== undefined);
  }

  private counters(tenant: string, limits: TenantLimits): { counters: BudgetCounter[]; scopes: BudgetScope[] } {
    const { day, month } = periods(this.now());
    const id = tenantKey(tenant);
    const counters: BudgetCounter[] = [];
    const scopes: BudgetScope[] = [];
    if (limits.dailyUsd !== undefined) {
      counters.push({ key: `{${id}}:day:${day}`, limit: toLimitMicros(limits.dailyUsd), ttlSeconds: DAY_TTL_S });
      scopes.push('day');
    }
    if (limits.monthlyUsd !== undefined) {
      counters.push({
        key: `{${id}}:month:${month}`,
        limit: toLimitMicros(limits.monthlyUsd),
        ttlSeconds: MONTH_TTL_S,
      });
      scopes.push('month');
    }
    return { counters, scopes };
  }

  /** Atomically reserves `usd` on the tenant's day and month counters, or says which one refused. */
  async reserve(tenant: string, usd: number): Promise<ReserveOutcome | undefined> {
    const limits = this.limitsFor(tenant);
    if (!limits) return undefined;
    const { counters, scopes } = this.counters(tenant, limits);
    if (counters.length === 0) return undefined;
    const micros = toMicros(usd);
    const r = await this.store.reserve(counters, micros);
    if (r.ok) return { ok: true, reservation: { tenant, counters, micros } };
    return {
      ok: false,
      scope: scopes[r.index] ?? 'day',
      limitUsd: fromMicros(counters[r.index]?.limit ?? 0),
      spentUsd: fromMicros(r.spent[r.index] ?? 0),
    };
  }

  /** Replaces the reservation by the real cost (`undefined` keeps the reservation as the charge). */
  async settle(reservation: Reservation, actualUsd: number | undefined): Promise<void> {
    if (actualUsd === undefined) return;
    const delta = toMicros(actualUsd) - reservation.micros;
    if (delta !== 0) await this.store.adjust(reservation.counters, delta);
  }

  /** Gives a reservation back (the call failed before the provider produced anything). */
  async release(reservation: Reservation): Promise<void> {
    if (reservation.micros !== 0) await this.store.adjust(reservation.counters, -reservation.micros);
  }

  async state(tenant: string): Promise<BudgetState> {
    const limits = this.limitsFor(tenant) ?? {};
    const { day, month } = periods(this.now());
    const id = tenantKey(tenant);
    const [daySpent = 0, monthSpent = 0] = await this.store.read([`{${id}}:day:${day}`, `{${id}}:month:${month}`]);
    const part = (period: string, limit: number | undefined, spentMicros: number): BudgetPeriodState => {
      const spentUsd = fromMicros(spentMicros);
      const limitUsd = limit === undefined ? undefined : fromMicros(toLimitMicros(limit));
      return {
        period,
        limitUsd,
        spentUsd,
        remainingUsd: limitUsd === undefined ? undefined : Math.max(0, limitUsd - spentUsd),
      };
    };
    return {
      tenant,
      store: this.store.kind,
      day: part(day, limits.dailyUsd, daySpent),
      month: part(month, limits.monthlyUsd, monthSpent),
    };
  }
}

/** UTC day and month of a timestamp: `2026-11-28`, `2026-11`. */
export function periods(t: number): { day: string; month: string } {
  const iso = new Date(t).toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

/** A tenant id made safe for a key and its Redis Cluster hash tag (`{...}`). */
function tenantKey(tenant: string): string {
  return encodeURIComponent(tenant).replace(/[{}]/g, (c) => (c === '{' ? '%7B' : '%7D'));
}

/** A limit rounds down to whole micro-dollars, so that rounding never allows more than the limit. */
function toLimitMicros(usd: number): number {
  return Math.floor(Math.round(usd * 1e9) / 1000);
}

function checkLimits(where: string, l: TenantLimits): void {
  for (const k of ['dailyUsd', 'monthlyUsd'] as const) {
    const v = l[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ConfigError(`${where}.${k} must be a finite number >= 0 (USD), got ${v}`);
    }
  }
}
