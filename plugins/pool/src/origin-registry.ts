import { type Dispatcher, Pool } from 'undici';
import type { ResolvedOriginOptions } from './options.js';
import { OriginState } from './origin-state.js';

/**
 * The per-origin state, found by the origin string a request carries, and the factory the undici Agent calls
 * to make the pool of an origin with that origin's options.
 */
export class OriginRegistry {
  /** By normalized origin (`https://host[:port]`). */
  readonly states = new Map<string, OriginState>();
  /** By the origin string as requests spell it (`https://host/` and `https://host` are one origin). */
  private readonly byKey = new Map<string, OriginState>();

  constructor(
    /** Options for origins that no provider announced (resolved once). */
    private readonly fallback: ResolvedOriginOptions,
  ) {}

  /** Registers an origin with its resolved options (at setup, for every provider origin). */
  add(origin: string, options: ResolvedOriginOptions, provider: string | undefined): OriginState {
    const state = new OriginState(origin, options, provider);
    this.states.set(origin, state);
    this.byKey.set(origin, state);
    return state;
  }

  get(key: string): OriginState {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    let origin = key;
    try {
      origin = new URL(key).origin;
    } catch {
      // Not a URL: undici refuses it when it builds the pool; keep the key.
    }
    let state = this.states.get(origin);
    if (state === undefined) {
      state = new OriginState(origin, this.fallback, undefined);
      this.states.set(origin, state);
    }
    this.byKey.set(key, state);
    return state;
  }

  /**
   * The Agent's factory: one undici Pool per origin, with that origin's options. The Agent drops a pool once
   * all its connections closed and nothing waits, and calls this again on the next request.
   */
  readonly factory = (origin: string | URL, _agentOptions: object): Dispatcher => {
    const state = this.get(typeof origin === 'string' ? origin : origin.toString());
    const pool = new Pool(origin, state.poolOptions());
    state.pool = pool;
    state.busy = false;
    pool.on('drain', () => {
      if (state.pool === pool) state.busy = false;
    });
    return pool;
  };
}
