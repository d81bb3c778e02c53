import type { Span } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { AbortError, TimeoutError } from './errors.js';
import type {
  AttemptContext,
  CallContext,
  CallMeta,
  CallMetadata,
  CallOptions,
  Operation,
  StateKey,
  Target,
} from './types.js';
import type { ChatCompletionRequest } from './wire.js';

/** A signal that never fires, shared by calls that have neither a signal nor a deadline. */
const NEVER = new AbortController().signal;
const NO_METADATA: CallMetadata = Object.freeze({});
const NO_OPTIONS: CallOptions = Object.freeze({});

/** The concrete call context. */
export class Call implements CallContext {
  readonly operation: Operation = 'chat';
  request: ChatCompletionRequest;
  readonly streaming: boolean;
  readonly signal: AbortSignal;
  readonly cancellable: boolean;
  readonly deadline: number | undefined;
  readonly metadata: CallMetadata;
  readonly options: CallOptions;
  readonly span: Span;
  dispatcher: Dispatcher;
  readonly meta: CallMeta;
  readonly startTime: number;
  /** The last target tried; attributes failures and stats to a provider. */
  lastTarget: Target | undefined;
  /** The error of the last failed attempt, and that attempt. */
  lastError: unknown;
  lastAttempt: Attempt | undefined;
  /** Attempts started so far (planned and extra ones), so that attempt numbers never repeat. */
  attemptCount = 0;
  private state: Map<symbol, unknown> | undefined;
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
    this.options = options ?? NO_OPTIONS;
    this.meta = { callId, attempts: [] };
    const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
    const userSignal = options?.signal;
    if (timeoutMs === undefined && userSignal === undefined) {
      this.signal = NEVER;
      this.cancellable = false;
      this.deadline = undefined;
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.signal = controller.signal;
    this.cancellable = true;
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
    return this.state?.get(key.symbol) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    this.state ??= new Map();
    this.state.set(key.symbol, value);
  }
}

/**
 * One attempt of a call at one target. A plain class with the call's fields copied in (not a
 * prototype view: using a hot object as a prototype makes V8 slow down every access to it).
 * State is shared with the call.
 */
export class Attempt implements AttemptContext {
  readonly operation: Operation;
  readonly request: ChatCompletionRequest;
  readonly streaming: boolean;
  /** The call's signal, unless an attempt middleware replaced it for this attempt. */
  signal: AbortSignal;
  cancellable: boolean;
  readonly deadline: number | undefined;
  readonly metadata: CallMetadata;
  readonly options: CallOptions;
  readonly span: Span;
  dispatcher: Dispatcher;
  readonly meta: CallMeta;
  readonly startTime: number;
  readonly targetRequest: ChatCompletionRequest;

  constructor(
    readonly call: Call,
    readonly target: Target,
    readonly attempt: number,
    readonly attemptSpan: Span,
  ) {
    this.operation = call.operation;
    this.request = call.request;
    this.streaming = call.streaming;
    this.signal = call.signal;
    this.cancellable = call.cancellable;
    this.deadline = call.deadline;
    this.metadata = call.metadata;
    this.options = call.options;
    this.span = call.span;
    this.dispatcher = call.dispatcher;
    this.meta = call.meta;
    this.startTime = call.startTime;
    this.targetRequest = target.model === call.request.model ? call.request : { ...call.request, model: target.model };
  }

  get<T>(key: StateKey<T>): T | undefined {
    return this.call.get(key);
  }

  set<T>(key: StateKey<T>, value: T): void {
    this.call.set(key, value);
  }
}
