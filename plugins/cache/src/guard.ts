import { CacheStoreError, CacheStoreTimeoutError, CacheStoreUnavailableError, type StoreOperation } from './errors.js';
import type { CacheStore } from './types.js';

/**
 * Keeps the store from hurting calls: each operation on a remote store is bounded by a timeout, and
 * after `failures` failures in a row the store is skipped for `cooldownMs` (then one operation
 * probes it again). Failures reject with a `CacheStoreError`; the caller counts them.
 */
export class StoreGuard {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly store: CacheStore,
    private readonly timeoutMs: number,
    private readonly breaker: { failures: number; cooldownMs: number } | undefined,
  ) {}

  run<T>(op: StoreOperation, fn: () => Promise<T>): Promise<T> {
    if (this.openUntil !== 0) {
      if (performance.now() < this.openUntil)
        return Promise.reject(new CacheStoreUnavailableError(this.store.name, op));
      // Cool-down over: let this operation probe the store; one more failure re-opens the circuit.
      this.openUntil = 0;
      this.failures = this.breaker ? this.breaker.failures - 1 : 0;
    }
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      p = Promise.reject(err);
    }
    if (!this.store.local) p = this.bound(op, p);
    return p.then(this.ok, (err: unknown) => this.fail(op, err));
  }

  private readonly ok = <T>(value: T): T => {
    this.failures = 0;
    return value;
  };

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

  /** True while the circuit is open (operations are refused without touching the store). */
  get open(): boolean {
    return this.openUntil !== 0 && performance.now() < this.openUntil;
  }
}
