import type { Span } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { AbortError, TimeoutError } from './errors.js';
import type { CallContext, CallMeta, CallMetadata, CallOptions, Operation, StateKey, Target } from './types.js';
import type { ChatCompletionRequest } from './wire.js';

/** A signal that never fires, shared by calls that have neither a signal nor a deadline. */
const NEVER = new AbortController().signal;
const NO_METADATA: CallMetadata = Object.freeze({});

/** The concrete call context. Attempt contexts are `Object.create(call)` views of it. */
export class Call implements CallContext {
  readonly operation: Operation = 'chat';
  request: ChatCompletionRequest;
  readonly streaming: boolean;
  readonly signal: AbortSignal;
  readonly deadline: number | undefined;
  readonly metadata: CallMetadata;
  readonly span: Span;
  dispatcher: Dispatcher;
  readonly meta: CallMeta;
  readonly startTime: number;
  /** The last target tried; attributes failures and stats to a provider. */
  lastTarget: Target | undefined;
  private state: Map<symbol, unknown> | undefined;
  private readonly root: Call = this;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private userSignal: AbortSignal | undefined;

  constructor(
    request: ChatCompletionRequest,
    streaming: boolean,
    options: CallOptions | undefined,
    span: Span,
    dispatcher: Dispatcher,
    callId: string,
    defaultTimeoutMs: number | undefined,
  ) {
    this.startTime = performance.now();
    this.request = request;
    this.streaming = streaming;
    this.span = span;
    this.dispatcher = dispatcher;
    this.metadata = options?.metadata ?? NO_METADATA;
    this.meta = { callId, attempts: [] };
    const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
    const userSignal = options?.signal;
    if (timeoutMs === undefined && userSignal === undefined) {
      this.signal = NEVER;
      this.deadline = undefined;
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.signal = controller.signal;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    if (userSignal) {
      if (userSignal.aborted) controller.abort(new AbortError('the call was aborted', userSignal.reason));
      else {
        this.userSignal = userSignal;
        userSignal.addEventListener('abort', this.onUserAbort, { once: true });
      }
    }
    if (timeoutMs !== undefined && !controller.signal.aborted) {
      this.timer = setTimeout(this.onTimeout, timeoutMs, timeoutMs);
    }
  }

  private readonly onUserAbort = (): void => {
    this.controller?.abort(new AbortError('the call was aborted', this.userSignal?.reason));
  };

  private readonly onTimeout = (ms: number): void => {
    this.controller?.abort(new TimeoutError(`the call exceeded its ${ms} ms deadline`));
  };

  /** Aborts the upstream work of this call (used when a stream's reader goes away). */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** Releases the deadline timer and the listener on the caller's signal. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.userSignal?.removeEventListener('abort', this.onUserAbort);
  }

  get<T>(key: StateKey<T>): T | undefined {
    return this.root.state?.get(key.symbol) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    const root = this.root;
    root.state ??= new Map();
    root.state.set(key.symbol, value);
  }
}
