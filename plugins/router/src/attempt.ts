import {
  AbortError,
  type AttemptContext,
  type AttemptMiddleware,
  type ChatCompletionChunk,
  createStateKey,
  type Reply,
  type StreamReply,
  semconv,
} from '@flowgate/core';
import { AttemptScope } from './attempt-scope.js';
import type { Ticket } from './breaker.js';
import type { Health } from './deployment.js';
import { isHealthFailure } from './error-policy.js';
import { CircuitOpenError, HedgeLostError } from './errors.js';
import { GuardedStream } from './guarded-stream.js';
import type { CallPlan } from './plan.js';
import type { Runtime } from './runtime.js';
import {
  ATTR_ATTEMPT_KIND,
  ATTR_BREAKER_FROM,
  ATTR_BREAKER_TO,
  ATTR_DEPLOYMENT,
  ATTR_FIRST_BYTE_MS,
  ATTR_RETRY_DELAY_MS,
  type AttemptOutcome,
  addEvent,
  EVENT_BREAKER,
} from './telemetry.js';
import type { RouterAttemptInfo } from './types.js';
import { carriesOutput, discardReply, errorType, noop } from './util.js';

export const PLAN_KEY = createStateKey<CallPlan>('router.plan');

/** A stream's opening chunks held back while waiting for real output; more than this is passed on. */
const MAX_HEAD = 16;

/**
 * The router's attempt middleware, around every attempt at one of its deployments: the circuit breaker, the
 * in-flight count, per-attempt timeouts and cancellation, latency recording, the hedge race, and, for a
 * stream, reading up to the first output chunk before answering, so that a failure before it is an attempt
 * failure the plan can fall back from.
 */
export function attemptMiddleware(rt: Runtime): AttemptMiddleware {
  return async function routerAttempt(ctx, next) {
    const health = rt.healthOf(ctx.target);
    if (!health) return next();
    const plan = ctx.get(PLAN_KEY);
    const hedge = plan?.hedge;
    const isHedge = ctx.target === health.hedgeTarget;
    const info: RouterAttemptInfo = {
      attempt: ctx.attempt,
      deployment: health.key,
      provider: health.provider.id,
      model: health.model,
      kind: isHedge ? 'hedge' : (plan?.pendingKind ?? 'first'),
    };
    if (!isHedge && plan && plan.pendingDelay > 0) info.retryDelayMs = plan.pendingDelay;
    plan?.meta.attempts.push(info);
    const span = ctx.attemptSpan;
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_DEPLOYMENT]: health.key,
        [ATTR_ATTEMPT_KIND]: info.kind,
        [ATTR_RETRY_DELAY_MS]: info.retryDelayMs ?? 0,
        [semconv.ATTR_GEN_AI_PROVIDER_NAME]: health.provider.system,
      });
    }
    health.dispatcher = ctx.dispatcher;
    // The call's own signal, before a scope replaces it: a failure once it fired is the caller's doing.
    const callSignal = ctx.signal;

    let ticket: Ticket | undefined;
    if (health.circuit) {
      ticket = health.circuit.enter();
      if (!ticket) {
        // Opened since the plan was made: fail fast, and let the plan fall back.
        const err = new CircuitOpenError(health.key, undefined, health.provider.id);
        info.outcome = 'error';
        info.errorCode = err.code;
        rt.instruments.attempt(health, 'error', err.code);
        throw err;
      }
    }
    const stallMs = ctx.streaming ? rt.stallTimeoutMs : undefined;
    const scope =
      hedge !== undefined || rt.firstByteTimeoutMs !== undefined || stallMs !== undefined
        ? new AttemptScope(ctx, health, rt.firstByteTimeoutMs, stallMs, rt.now)
        : undefined;
    if (hedge && scope) hedge.track(scope, isHedge);
    health.inFlight++;
    const started = rt.now();

    let reply: Reply;
    let head: StreamHead | undefined;
    try {
      if (scope) {
        const pending = next();
        try {
          reply = await scope.guard(pending);
        } catch (err) {
          // The scope gave up first; if the provider still answers later, close that answer.
          pending.then(discardReply, noop);
          throw err;
        }
      } else {
        reply = await next();
      }
      if (reply.type === 'stream') head = await readHead(reply, scope);
    } catch (err) {
      const ending = endAttempt(rt, ctx, health, info, ticket, scope, started, false, callSignal, err);
      if (ending) await ending;
      throw err;
    }

    scope?.firstByte();
    const now = rt.now();
    const elapsed = now - started;
    info.firstByteMs = Math.round(elapsed * 1000) / 1000;
    if (span.isRecording()) span.setAttribute(ATTR_FIRST_BYTE_MS, info.firstByteMs);
    if (ctx.streaming) health.ttft.record(elapsed, now);
    else health.latency.record(elapsed, now);
    health.peak.record(elapsed, now);
    health.firstByte?.[ctx.streaming ? 1 : 0].record(elapsed);

    if (hedge && !hedge.claim(isHedge)) {
      const err = new HedgeLostError();
      if (head) head.it.return?.()?.catch(noop);
      else discardReply(reply);
      scope?.abort(err);
      const ending = endAttempt(rt, ctx, health, info, ticket, scope, started, true, callSignal, err);
      if (ending) await ending;
      throw err;
    }
    if (reply.type === 'response') {
      const ending = endAttempt(rt, ctx, health, info, ticket, scope, started, true, callSignal, undefined);
      if (ending) await ending;
      return reply;
    }
    const end = (err: unknown): Promise<void> =>
      endAttempt(rt, ctx, health, info, ticket, scope, started, true, callSignal, err) ?? DONE;
    return new GuardedStream(reply, head!.it, head!.chunks, head!.done, scope, end);
  };
}

const DONE: Promise<void> = Promise.resolve();

interface StreamHead {
  it: AsyncIterator<ChatCompletionChunk>;
  chunks: ChatCompletionChunk[];
  done: boolean;
}

/** Reads a stream up to its first chunk with output (role-only opening chunks are held back with it). */
async function readHead(reply: StreamReply, scope: AttemptScope | undefined): Promise<StreamHead> {
  const it = reply.chunks[Symbol.asyncIterator]();
  const chunks: ChatCompletionChunk[] = [];
  try {
    for (;;) {
      const step = scope ? await scope.read(it) : await it.next();
      if (step.done) return { it, chunks, done: true };
      chunks.push(step.value);
      if (carriesOutput(step.value) || chunks.length >= MAX_HEAD) return { it, chunks, done: false };
    }
  } catch (err) {
    scope?.abort(err);
    it.return?.()?.catch(noop);
    reply.response.catch(noop);
    throw err;
  }
}

/**
 * Records the end of an attempt: stats, metrics, span, and the breaker's verdict. Returns a promise only
 * when the breaker may change state (to wait for it and record the transition on the span): a success
 * while it is closed, the common case, costs no promise.
 */
function endAttempt(
  rt: Runtime,
  ctx: AttemptContext,
  health: Health,
  info: RouterAttemptInfo,
  ticket: Ticket | undefined,
  scope: AttemptScope | undefined,
  started: number,
  afterFirstByte: boolean,
  callSignal: AbortSignal,
  error: unknown,
): Promise<void> | undefined {
  scope?.dispose();
  health.inFlight--;
  let outcome: AttemptOutcome = 'ok';
  let type: string | undefined;
  let verdict: 'ok' | 'failure' | 'neutral' = 'ok';
  if (error !== undefined) {
    type = errorType(error);
    outcome = error instanceof HedgeLostError || error instanceof AbortError ? 'cancelled' : 'error';
    info.errorCode = type;
    verdict = isHealthFailure(error) && !callSignal.aborted ? 'failure' : 'neutral';
    if (verdict === 'failure') {
      health.failures++;
      if (!afterFirstByte) {
        // Failing fast must not look fast to the latency strategies.
        const now = rt.now();
        const sample = Math.max(now - started, rt.latency.failurePenaltyMs);
        if (ctx.streaming) health.ttft.record(sample, now);
        else health.latency.record(sample, now);
        health.peak.record(sample, now);
      }
    }
  } else {
    health.successes++;
  }
  info.outcome = outcome;
  rt.instruments.attempt(health, outcome, type);
  const span = ctx.attemptSpan;
  if (span.isRecording()) span.setAttribute(semconv.ATTR_FLOWGATE_OUTCOME, outcome);
  const circuit = health.circuit;
  if (!ticket || !circuit) return undefined;
  const before = circuit.state;
  if (error === undefined && before === 'closed') {
    circuit.succeed(ticket); // nothing can change
    return undefined;
  }
  return circuit.settle(ticket, verdict, error).then(() => {
    const after = circuit.state;
    if (after !== before) {
      addEvent(span, EVENT_BREAKER, {
        [ATTR_DEPLOYMENT]: health.key,
        [ATTR_BREAKER_FROM]: before,
        [ATTR_BREAKER_TO]: after,
      });
    }
  });
}
