import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MockStats } from './types.js';

/**
 * One request/response pair: tracks whether the client went away, and owns the single timer
 * (latency, TTFT or pacing) that is pending for it, cleared when the connection closes.
 */
export class Exchange {
  /** The client closed the connection (or it was destroyed). */
  closed = false;
  /** The response is over as far as the mock is concerned (also set when a fault destroys the socket). */
  done = false;
  /** A 200 event stream was started. */
  streaming = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly stats: MockStats,
  ) {
    res.once('close', this.onClose);
  }

  /** Run `fn` after `ms`, unless the connection closes first. */
  schedule(fn: () => void, ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) fn();
    }, ms);
  }

  /** Destroy the connection without a response (the `reset` fault). */
  destroy(): void {
    this.done = true;
    const socket = this.req.socket;
    // RST rather than FIN where the socket supports it, so the client sees a real reset.
    if (typeof socket.resetAndDestroy === 'function' && !('encrypted' in socket)) socket.resetAndDestroy();
    else socket.destroy();
  }

  private readonly onClose = (): void => {
    this.closed = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.done || this.res.writableFinished) return;
    this.stats.requestsAborted++;
    if (this.streaming) this.stats.streamsAborted++;
  };
}
