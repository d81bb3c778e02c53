/**
 * Where budget spend lives. Amounts are integers in micro-USD so that every store adds exactly.
 * A store must make `reserve` atomic across everything that shares it: check every counter and add
 * to all of them, or change none.
 */
export interface BudgetCounter {
  /** Logical key, e.g. `{acme}:day:2026-11-28`; a store may prefix it. */
  key: string;
  /** Micro-USD the counter may reach; `reserve` fails if the amount would take it past this. */
  limit: number;
  /** Lifetime of the counter from its creation, so that old periods expire. */
  ttlSeconds: number;
}

export type ReserveResult =
  /** Reserved: `spent` holds the counters' values after the increment. */
  | { ok: true; spent: number[] }
  /** Refused by counter `index`: `spent` holds the values before (nothing was changed). */
  | { ok: false; index: number; spent: number[] };

export interface BudgetStore {
  readonly kind: string;
  /** If every counter has room for `amount`, adds it to all of them; otherwise changes nothing. */
  reserve(counters: readonly BudgetCounter[], amount: number): Promise<ReserveResult>;
  /** Adds `delta` (negative to give back) to every counter: settles a reservation to the real cost. */
  adjust(counters: readonly BudgetCounter[], delta: number): Promise<void>;
  /** Current values (0 for a counter that does not exist). */
  read(keys: readonly string[]): Promise<number[]>;
  /** Frees the store's resources (the plugin calls it at gateway close when it owns the store). */
  close?(): Promise<void>;
}

interface Slot {
  value: number;
  expiresAt: number;
}

/**
 * In-process store: atomic because a reservation runs synchronously on the one event loop. Budgets
 * are per process; use `redisBudgetStore` to share them between gateway instances.
 */
export function memoryBudgetStore(options: { now?: () => number } = {}): BudgetStore {
  const now = options.now ?? Date.now;
  const slots = new Map<string, Slot>();
  let sweepAt = 0;

  const live = (key: string, t: number): Slot | undefined => {
    const s = slots.get(key);
    if (s && s.expiresAt <= t) {
      slots.delete(key);
      return undefined;
    }
    return s;
  };
  const sweep = (t: number) => {
    if (t < sweepAt) return;
    sweepAt = t + 60_000;
    for (const [k, s] of slots) if (s.expiresAt <= t) slots.delete(k);
  };
  const add = (c: BudgetCounter, delta: number, t: number): number => {
    let s = live(c.key, t);
    if (!s) {
      s = { value: 0, expiresAt: t + c.ttlSeconds * 1000 };
      slots.set(c.key, s);
    }
    s.value += delta;
    return s.value;
  };

  return {
    kind: 'memory',
    async reserve(counters, amount) {
      const t = now();
      sweep(t);
      const spent = counters.map((c) => live(c.key, t)?.value ?? 0);
      for (let i = 0; i < counters.length; i++) {
        if (spent[i]! + amount > counters[i]!.limit) return { ok: false, index: i, spent };
      }
      return { ok: true, spent: counters.map((c) => add(c, amount, t)) };
    },
    async adjust(counters, delta) {
      const t = now();
      for (const c of counters) add(c, delta, t);
    },
    async read(keys) {
      const t = now();
      return keys.map((k) => live(k, t)?.value ?? 0);
    },
  };
}
