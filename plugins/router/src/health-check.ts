import type { AttemptContext, CallMeta, ChatCompletionRequest, StateKey } from '@flowgate/core';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Health } from './deployment.js';

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The default active health check: a 1-token request straight to the deployment's provider (outside the
 * pipeline, so it neither counts as a call nor passes the breaker), over the dispatcher its last attempt used.
 */
export async function probeDeployment(h: Health, timeoutMs: number): Promise<void> {
  const dispatcher = h.dispatcher;
  if (!dispatcher) throw new Error(`${h.key}: no attempt has run yet, so there is no dispatcher to probe with`);
  const request: ChatCompletionRequest = {
    model: h.model,
    messages: [{ role: 'user', content: 'ping' }],
    max_tokens: 1,
  };
  const state = new Map<symbol, unknown>();
  const meta: CallMeta = { callId: `health-check ${h.key}`, attempts: [] };
  const ctx: AttemptContext = {
    operation: 'chat',
    request,
    targetRequest: request,
    streaming: false,
    signal: AbortSignal.timeout(timeoutMs),
    cancellable: true,
    deadline: Date.now() + timeoutMs,
    metadata: {},
    options: {},
    span: NO_SPAN,
    attemptSpan: NO_SPAN,
    dispatcher,
    meta,
    startTime: performance.now(),
    target: h.target,
    attempt: 1,
    get: <T>(key: StateKey<T>) => state.get(key.symbol) as T | undefined,
    set: <T>(key: StateKey<T>, value: T) => void state.set(key.symbol, value),
  };
  const reply = await h.provider.send(ctx);
  if (reply.type === 'stream') {
    for await (const _ of reply.chunks) {
      // drain
    }
    await reply.response;
  }
}
