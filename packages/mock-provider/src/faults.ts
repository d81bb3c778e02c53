import type { Fault, FaultRule } from './types.js';

export type ActiveFault = Exclude<Fault, 'ok'>;

/** A small seeded PRNG (mulberry32): same seed, same sequence. Returns floats in [0, 1). */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first rule whose draw falls under its rate, or undefined. One draw per rule checked. */
export function drawFault(rules: readonly FaultRule[], random: () => number): ActiveFault | undefined {
  for (const rule of rules) {
    if (random() < rule.rate) return rule.fault;
  }
  return undefined;
}

/** Key of a fault in `stats().faultsInjected`. */
export function faultKey(fault: ActiveFault): string {
  return fault.type === 'status' ? `status:${fault.status}` : fault.type;
}

/** Per-model fault scripts: queues consumed one entry per request. `'*'` is shared by models without one. */
export class ScriptBook {
  private readonly queues = new Map<string, Fault[]>();
  private anyArmed = false;

  set(model: string, faults: readonly Fault[]): void {
    this.queues.set(model, faults.slice());
    this.anyArmed = true;
  }

  delete(model: string): void {
    this.queues.delete(model);
  }

  clear(): void {
    this.queues.clear();
    this.anyArmed = false;
  }

  /**
   * Take the next scripted entry for `model`: `undefined` when no script applies,
   * `'ok'` when the script says "no fault" for this request.
   */
  take(model: string): Fault | undefined {
    if (!this.anyArmed) return undefined;
    const own = this.queues.get(model);
    if (own !== undefined && own.length > 0) return own.shift();
    const shared = this.queues.get('*');
    if (shared !== undefined && shared.length > 0) return shared.shift();
    return undefined;
  }
}
