import { AbortError, type ChatCompletion, type ChatCompletionChunk, type StreamReply } from '@flowgate/core';
import type { AttemptScope } from './attempt-scope.js';
import { noop } from './util.js';

type Step = IteratorResult<ChatCompletionChunk, undefined>;
const DONE: Step = { done: true, value: undefined };

/**
 * A provider's stream after its first output chunk: the chunks read so far (`head`), then the rest, read under
 * the attempt's stall timer. Past this point a failure cannot fall back any more (the caller has seen output),
 * so it reaches the caller as the typed error it is. `end` is told the outcome exactly once: at the end of the
 * stream, on a failure, when the reader stops early, or when the attempt is cancelled while nobody reads.
 */
export class GuardedStream implements StreamReply {
  readonly type = 'stream';
  readonly response: Promise<ChatCompletion>;
  readonly chunks: AsyncIterable<ChatCompletionChunk>;
  private resolve!: (value: ChatCompletion | Promise<ChatCompletion>) => void;
  private reject!: (error: unknown) => void;
  private settled = false;
  /** Why the stream ended early; the next read throws it (a stream never just stops). */
  private failure: unknown;
  private reading = false;
  private used = false;

  constructor(
    private readonly upstream: StreamReply,
    private readonly it: AsyncIterator<ChatCompletionChunk>,
    private readonly head: ChatCompletionChunk[],
    private upstreamDone: boolean,
    private readonly scope: AttemptScope | undefined,
    private readonly end: (error: unknown) => Promise<void>,
  ) {
    this.response = new Promise<ChatCompletion>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.response.catch(noop);
    if (scope) {
      // Cancelled (deadline, caller, lost hedge) while nobody reads: nobody would notice otherwise.
      scope.onAbort = (reason) => {
        if (!this.reading) void this.finish(reason);
      };
    }
    const self = this;
    this.chunks = {
      [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk, undefined> {
        if (self.used) throw new TypeError('a stream reply can be read only once');
        self.used = true;
        return {
          next: () => self.next(),
          return: () => self.stop(),
        };
      },
    };
  }

  private next(): Promise<Step> {
    if (this.head.length > 0) return Promise.resolve({ done: false, value: this.head.shift()! });
    if (this.settled) return this.failure === undefined ? Promise.resolve(DONE) : Promise.reject(this.failure);
    if (this.upstreamDone) return this.finish(undefined).then(() => DONE);
    return this.pull();
  }

  private async pull(): Promise<Step> {
    let step: IteratorResult<ChatCompletionChunk>;
    this.reading = true;
    try {
      step = this.scope ? await this.scope.read(this.it) : await this.it.next();
    } catch (err) {
      this.reading = false;
      await this.finish(err);
      throw err;
    }
    this.reading = false;
    if (step.done) {
      this.upstreamDone = true;
      await this.finish(undefined);
      return DONE;
    }
    return step;
  }

  private async stop(): Promise<Step> {
    await this.finish(new AbortError('the reader stopped before the stream ended'));
    this.failure = undefined; // the reader itself stopped: later reads just end
    return DONE;
  }

  private async finish(error: unknown): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (error !== undefined) {
      this.failure = error;
      // Close the upstream: abort its request (for providers that listen) and return its iterator (for the rest).
      this.scope?.abort(error);
      if (!this.upstreamDone) this.it.return?.()?.catch(noop);
      this.upstream.response.catch(noop);
    }
    this.scope?.dispose();
    await this.end(error);
    if (error === undefined) this.resolve(this.upstream.response);
    else this.reject(error);
  }
}
