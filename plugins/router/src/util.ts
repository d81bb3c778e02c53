import { type ChatCompletionChunk, FlowgateError, type Reply } from '@flowgate/core';

export const noop = (): void => {};

/** The error's stable code (`FLOWGATE_ERR_...`), or its class name. */
export function errorType(error: unknown): string {
  if (error instanceof FlowgateError) return error.code;
  if (error instanceof Error) return error.name;
  return '_OTHER';
}

/**
 * Whether a chunk carries output (text, a tool call, a refusal, a finish reason). The role-only chunk that
 * opens a stream says nothing: the router holds it back until real output arrives, so that a failure before
 * that point can still fall back without the caller noticing.
 */
export function carriesOutput(chunk: ChatCompletionChunk): boolean {
  for (const c of chunk.choices) {
    const d = c.delta;
    if (d.content || d.tool_calls?.length || d.refusal || c.finish_reason) return true;
  }
  return false;
}

/** Closes a reply nobody will read, so that its upstream stream and connection are released. */
export function discardReply(reply: Reply): void {
  if (reply.type !== 'stream') return;
  reply.response.catch(noop);
  try {
    const it = reply.chunks[Symbol.asyncIterator]();
    it.return?.()?.catch(noop);
  } catch {
    // Already being read: whoever reads it closes it.
  }
}

/**
 * Waits `ms`. Rejects with the reason when `signal` aborts (the call's deadline or the caller), and
 * resolves early when `cancel` aborts (the plan is no longer needed).
 */
export function sleep(ms: number, signal: AbortSignal | undefined, cancel: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (cancel?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cancel?.removeEventListener('abort', onCancel);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    const onCancel = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel?.addEventListener('abort', onCancel, { once: true });
  });
}
