import type { Span } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import {
  addDeadline,
  COARSE_MAX_MS,
  COARSE_MIN_MS,
  type DeadlineEntry,
  type DeadlineList,
  removeDeadline,
} from './deadlines.js';
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

/** The deadline timer's callback, shared by every call (the call comes as an argument, not in a closure). */
const onDeadline = (call: Call, ms: number): void =>
  call.abort(new TimeoutError(`the call exceeded its ${ms} ms deadline`));

/** The concrete call context. */
export class Call implements CallContext, DeadlineEntry {
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
  private onUserAbort: (() => void) | undefined;
  /** Length of a deadline kept on the shared coarse timer (see deadlines.ts); 0 when none is. */
  private coarseTimeoutMs = 0;
  dueAt = 0;
  deadlinePrev: DeadlineEntry | undefined;
  deadlineNext: DeadlineEntry | undefined;
  deadlineList: DeadlineList | undefined;

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
    const adopted = options?.controller;
    if (timeoutMs === undefined && userSignal === undefined && adopted === undefined) {
      this.signal = NEVER;
      this.cancellable = false;
      this.deadline = undefined;
      return;
    }
    const controller = adopted ?? new AbortController();
    this.controller = controller;
    this.signal = controller.signal;
    this.cancellable = true;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    // An adopted controller's own signal needs no listener: its abort is the call's.
    if (userSignal && userSignal !== controller.signal) {
      if (userSignal.aborted) controller.abort(new AbortError('the call was aborted', userSignal.reason));
      else {
        this.userSignal = userSignal;
        // Made only for calls that have a signal; removed again by dispose(), so no `once` options needed.
        this.onUserAbort = () => controller.abort(new AbortError('the call was aborted', userSignal.reason));
        userSignal.addEventListener('abort', this.onUserAbort);
      }
    }
    if (timeoutMs !== undefined && !controller.signal.aborted) {
      if (timeoutMs >= COARSE_MIN_MS && timeoutMs <= COARSE_MAX_MS) {
        this.coarseTimeoutMs = timeoutMs;
        addDeadline(this, timeoutMs);
      } else this.timer = setTimeout(onDeadline, timeoutMs, this, timeoutMs);
    }
  }

  /** The coarse deadline is due (called by the shared timer). */
  expire(): void {
    onDeadline(this, this.coarseTimeoutMs);
  }

  /** Aborts the upstream work of this call (used when a stream's reader goes away). */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** Releases the deadline timer and the listener on the caller's signal. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    else if (this.deadlineList) removeDeadline(this);
    if (this.onUserAbort) this.userSignal!.removeEventListener('abort', this.onUserAbort);
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
