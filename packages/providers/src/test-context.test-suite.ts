/** Test-only: builds the AttemptContext the core would hand a provider. Excluded from the build. */
import type { AttemptContext, ChatCompletionRequest, Provider, StateKey } from '@flowgate/core';
import { trace } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';

export interface TestContextOptions {
  provider: Provider;
  request: ChatCompletionRequest;
  dispatcher: Dispatcher;
  streaming?: boolean;
  signal?: AbortSignal;
  /** Model sent to the target; default `request.model`. */
  model?: string;
}

export function attemptContext(options: TestContextOptions): AttemptContext {
  const tracer = trace.getTracer('test');
  const model = options.model ?? options.request.model;
  const span = tracer.startSpan(`chat ${model}`);
  const state = new Map<symbol, unknown>();
  return {
    operation: 'chat',
    request: options.request,
    streaming: options.streaming ?? false,
    signal: options.signal ?? new AbortController().signal,
    cancellable: options.signal !== undefined,
    deadline: undefined,
    metadata: {},
    options: {},
    span,
    dispatcher: options.dispatcher,
    meta: { callId: 'test-call', attempts: [] },
    startTime: performance.now(),
    get<T>(key: StateKey<T>): T | undefined {
      return state.get(key.symbol) as T | undefined;
    },
    set<T>(key: StateKey<T>, value: T): void {
      state.set(key.symbol, value);
    },
    target: { provider: options.provider, model },
    attempt: 1,
    attemptSpan: span,
    targetRequest: { ...options.request, model },
  };
}
