import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type Reply,
  responseReply,
  type StreamReply,
  streamReply,
} from '@flowgate/core';
import { type CacheEntry, replayChunks, storable } from '@flowgate/plugin-cache';

/** Stored values come back from JSON: check the shape before serving one (as the exact cache does). */
export function isEntry(value: unknown): value is CacheEntry {
  const e = value as CacheEntry | undefined;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.storedAt === 'number' &&
    typeof e.response === 'object' &&
    e.response !== null &&
    Array.isArray(e.response.choices)
  );
}

/**
 * Whether the exact cache will store an answer (its own rule, shared): only such answers are
 * indexed, so that an index entry points at an answer that exists.
 */
export { storable };

/** A cached answer as the reply the caller expects: whole, or replayed in the provider's chunk shapes. */
export function answerReply(response: ChatCompletion, streaming: boolean): Reply {
  if (!streaming) return responseReply(response);
  const chunks = replayChunks(response);
  async function* replay(): AsyncGenerator<ChatCompletionChunk> {
    yield* chunks;
  }
  return streamReply(replay());
}

/**
 * Passes a streamed answer through untouched and calls `onComplete` once the caller has read it to
 * the end and the assembled answer resolved (never for a failed, truncated or abandoned stream).
 */
export function onStreamComplete(reply: StreamReply, onComplete: (response: ChatCompletion) => void): StreamReply {
  let response: ChatCompletion | undefined;
  let readToEnd = false;
  let done = false;
  const complete = () => {
    if (done || response === undefined || !readToEnd) return;
    done = true;
    onComplete(response);
  };
  reply.response.then(
    (r) => {
      response = r;
      complete();
    },
    () => {
      done = true;
    },
  );
  const source = reply.chunks;
  let used = false;
  async function* pass(): AsyncGenerator<ChatCompletionChunk> {
    for await (const chunk of source) yield chunk;
    readToEnd = true;
    complete();
  }
  return {
    type: 'stream',
    response: reply.response,
    chunks: {
      [Symbol.asyncIterator]() {
        if (used) throw new TypeError('a stream reply can be read only once');
        used = true;
        return pass();
      },
    },
  };
}
