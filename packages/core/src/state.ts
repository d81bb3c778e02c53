import type { StateKey } from './types.js';

/** A typed key for plugin state on a call context (`ctx.get(key)`, `ctx.set(key, value)`). */
export function createStateKey<T>(description: string): StateKey<T> {
  return { symbol: Symbol(description) };
}
