import type { CacheEntry } from './types.js';

/**
 * One upstream call that identical concurrent misses wait for. Most flights end with nobody having
 * waited, so the promise followers wait on is made only when the first one asks for it.
 */
export class Flight {
  /** Followers waiting for it (they need a snapshot of the answer). */
  waiters = 0;
  /** The leader has its outcome; newcomers no longer wait for the answer, only for `written`. */
  settled = false;
  /** Set when the answer is being stored: the flight stays joinable until then. */
  written: Promise<void> | undefined;
  private resolved = false;
  private outcome: CacheEntry | undefined;
  private waiting: Promise<CacheEntry | undefined> | undefined;
  private wake: ((entry: CacheEntry | undefined) => void) | undefined;

  constructor(
    /** `performance.now()` after which newcomers stop joining it (a leader that never settles). */
    readonly expiresAt: number,
  ) {}

  /** Settles with the leader's entry (or `undefined`: proceed on your own). */
  get promise(): Promise<CacheEntry | undefined> {
    if (this.waiting === undefined) {
      this.waiting = this.resolved
        ? Promise.resolve(this.outcome)
        : new Promise<CacheEntry | undefined>((resolve) => {
            this.wake = resolve;
          });
    }
    return this.waiting;
  }

  /** Hands the outcome to the followers; like a promise's, only the first call counts. */
  resolve(entry: CacheEntry | undefined): void {
    if (this.resolved) return;
    this.resolved = true;
    if (this.waiting === undefined) this.outcome = entry;
    else this.wake!(entry);
    this.wake = undefined;
  }
}

/**
 * In-process single-flight by key. The first miss for a key leads: it goes upstream and settles the
 * flight with the entry it stored, or with `undefined` when it failed or got an answer that must not
 * be stored; the followers then proceed each on their own. A follower waits at most `maxWaitMs`.
 * After the leader settled, the flight stays joinable while the answer is written (`written`), so
 * that a newcomer reads the store after the write rather than missing in between.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  constructor(readonly maxWaitMs: number) {}

  /** The flight in progress for `key`, or undefined after making the caller its leader (`lead()` gives it). */
  join(key: string): Flight | undefined {
    const f = this.flights.get(key);
    const now = performance.now();
    if (f !== undefined && f.expiresAt > now) return f;
    this.flights.set(key, new Flight(now + this.maxWaitMs));
    return undefined;
  }

  /** The flight the caller leads (right after `join` returned undefined). */
  lead(key: string): Flight {
    return this.flights.get(key)!;
  }

  /**
   * Hands the outcome to the waiting followers (`undefined`: proceed on your own). The entry must be
   * the flight's own snapshot, not shared with the leader's caller, who may change what it was given.
   */
  settle(flight: Flight, entry: CacheEntry | undefined, written?: Promise<void>): void {
    flight.settled = true;
    flight.written = written;
    flight.resolve(entry);
  }

  /** Forgets the flight (if it is still the current one for the key). */
  release(key: string, flight: Flight): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
  }

  get size(): number {
    return this.flights.size;
  }

  /**
   * Waits for the flight's entry: undefined when the leader failed, when `maxWaitMs` passed (the
   * stuck flight is then forgotten so that newcomers lead anew), or when the caller's signal fired.
   */
  wait(key: string, flight: Flight, signal: AbortSignal, cancellable: boolean): Promise<CacheEntry | undefined> {
    flight.waiters++;
    return new Promise((resolve) => {
      let done = false;
      const finish = (entry: CacheEntry | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (cancellable) signal.removeEventListener('abort', onAbort);
        resolve(entry);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(
        () => {
          this.release(key, flight);
          finish(undefined);
        },
        Math.max(0, flight.expiresAt - performance.now()),
      );
      if (cancellable) {
        if (signal.aborted) return finish(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      flight.promise.then(finish);
    });
  }
}
