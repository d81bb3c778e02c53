import { CacheStoreError, CacheStoreTimeoutError, CacheStoreUnavailableError, type StoreOperation } from './errors.js';
import type { CacheEntry, CacheStore } from './types.js';

/**
 * Keeps the store from hurting calls: each operation on a remote store is bounded by a timeout, and
 * after `failures` failures in a row the store is skipped for `cooldownMs` (then one operation
 * probes it again). Failures reject with a `CacheStoreError`; the caller counts them.
 *
 * `get` and `set` run once per cacheable call: they take their arguments directly and their
 * outcome handlers are made once, so that guarding a call allocates nothing but the promise.
 */
export class StoreGuard {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly store: CacheStore,
    private readonly timeoutMs: number,
    private readonly breaker: { failures: number; cooldownMs: number } | undefined,
  ) {}

  /** `store.get(key)`, guarded. */
  get(key: string): Promise<CacheEntry | undefined> {
    const refused = this.refusal('get');
    if (refused) return refused;
    let p: Promise<CacheEntry | undefined>;
    try {
      p = this.store.get(key);
    } catch (err) {
      p = Promise.reject(err);
    }
    if (!this.store.local) p = this.bound('get', p);
    return p.then(this.ok, this.failedGet);
  }

  /** `store.set(key, entry, ttlMs)`, guarded. */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    const refused = this.refusal('set');
    if (refused) return refused;
    let p: Promise<boolean>;
    try {
      p = this.store.set(key, entry, ttlMs);
    } catch (err) {
      p = Promise.reject(err);
    }
    if (!this.store.local) p = this.bound('set', p);
    return p.then(this.ok, this.failedSet);
  }

  /** True while the circuit is open (operations are refused without touching the store). */
  get open(): boolean {
    return this.openUntil !== 0 && performance.now() < this.openUntil;
  }

  /** The refusal of an operation while the circuit is open; undefined when it may go. */
  private refusal(op: StoreOperation): Promise<never> | undefined {
    if (this.openUntil === 0) return undefined;
    if (performance.now() < this.openUntil) return Promise.reject(new CacheStoreUnavailableError(this.store.name, op));
    // Cool-down over: let this operation probe the store; one more failure re-opens the circuit.
    this.openUntil = 0;
    this.failures = this.breaker ? this.breaker.failures - 1 : 0;
    return undefined;
  }

  private readonly ok = <T>(value: T): T => {
    this.failures = 0;
    return value;
  };

  private readonly failedGet = (err: unknown): never => this.fail('get', err);
  private readonly failedSet = (err: unknown): never => this.fail('set', err);

  private fail(op: StoreOperation, err: unknown): never {
    this.failures++;
    if (this.breaker && this.failures >= this.breaker.failures) {
      this.openUntil = performance.now() + this.breaker.cooldownMs;
    }
    throw err instanceof CacheStoreError
      ? err
      : new CacheStoreError(this.store.name, op, err instanceof Error ? err.message : String(err), err);
  }

  private bound<T>(op: StoreOperation, p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CacheStoreTimeoutError(this.store.name, op, this.timeoutMs)),
        this.timeoutMs,
      );
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }
}
