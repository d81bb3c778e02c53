import { type AttemptContext, TimeoutError } from '@flowgate/core';
import type { Health } from './deployment.js';
import { StreamStallError } from './errors.js';

/**
 * Cancellation for one attempt: its own signal, which follows the call's, and the timers that cut the
 * attempt: no first byte within `firstByteMs`, or no chunk for `stallMs` while someone waits for one; a hedge
 * that lost aborts it too. Every cut aborts the signal with a typed reason, which the provider turns into the
 * failure of its request or stream (and so closes the upstream); the promise being waited for (`guard`,
 * `read`) rejects with the same reason at once, for providers that do not listen.
 *
 * Built for the hot path: no listener on its own signal and no `Promise.race` (each costs about a µs).
 */
export class AttemptScope {
  private readonly controller = new AbortController();
  private parent: AbortSignal | undefined;
  private readonly onParentAbort = (): void => this.abort(this.parent?.reason);
  private firstByteTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Since when someone waits for a chunk (`-1`: nobody waits). */
  private waitingSince = -1;
  private readonly onStallCheck = (): void => this.checkStall();
  /** Rejects what is being waited for now, if anything. */
  private rejectWait: ((reason: unknown) => void) | undefined;
  /** Called when the scope aborts, whoever caused it. */
  onAbort: ((reason: unknown) => void) | undefined;

  constructor(
    ctx: AttemptContext,
    private readonly health: Health,
    firstByteMs: number | undefined,
    private readonly stallMs: number | undefined,
    private readonly now: () => number,
  ) {
    if (ctx.cancellable) {
      const parent = ctx.signal;
      if (parent.aborted) this.controller.abort(parent.reason);
      else {
        this.parent = parent;
        parent.addEventListener('abort', this.onParentAbort, { once: true });
      }
    }
    ctx.signal = this.controller.signal;
    ctx.cancellable = true;
    if (firstByteMs !== undefined && !this.aborted) {
      this.firstByteTimer = setTimeout(() => {
        this.abort(
          new TimeoutError(`${health.key}: no answer within ${firstByteMs} ms`, { provider: health.provider.id }),
        );
      }, firstByteMs);
    }
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  abort(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(reason);
    this.onAbort?.(reason);
  }

  /** `promise`, or the abort reason as soon as the scope aborts. */
  guard<T>(promise: Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.controller.signal.reason);
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      promise.then(
        (value) => {
          this.rejectWait = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.rejectWait = undefined;
          reject(error);
        },
      );
    });
  }

  /** The first byte arrived: the first-byte timer is done. */
  firstByte(): void {
    if (this.firstByteTimer) clearTimeout(this.firstByteTimer);
    this.firstByteTimer = undefined;
  }

  /** Reads one chunk, under the stall timer. */
  read<T>(it: AsyncIterator<T>): Promise<IteratorResult<T>> {
    const pending = it.next();
    if (this.stallMs !== undefined) {
      this.waitingSince = this.now();
      if (!this.stallTimer) this.stallTimer = setTimeout(this.onStallCheck, this.stallMs);
      pending.then(this.doneWaiting, this.doneWaiting);
    }
    return this.guard(pending);
  }

  /** Clears the timers and stops following the call's signal. Idempotent. */
  dispose(): void {
    this.firstByte();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.parent?.removeEventListener('abort', this.onParentAbort);
    this.parent = undefined;
  }

  private readonly doneWaiting = (): void => {
    this.waitingSince = -1;
  };

  /** One timer per stream, re-armed lazily: a chunk does not touch it, the check looks at the wait so far. */
  private checkStall(): void {
    this.stallTimer = undefined;
    const stallMs = this.stallMs!;
    if (this.waitingSince < 0 || this.aborted) return;
    const waited = this.now() - this.waitingSince;
    if (waited >= stallMs - 1) {
      this.abort(new StreamStallError(this.health.key, stallMs, this.health.provider.id));
      return;
    }
    this.stallTimer = setTimeout(this.onStallCheck, stallMs - waited);
  }
}
