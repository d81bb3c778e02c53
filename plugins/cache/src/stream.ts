import { type ChatCompletion, type ChatCompletionChunk, type StreamReply, streamReply } from '@flowgate/core';

/**
 * Passes a streamed miss through untouched and reports its end: `onComplete` once the caller has
 * read every chunk and the assembled answer resolved, `onIncomplete` if the stream failed, was
 * truncated, or the reader stopped early. Nothing is buffered: each chunk is yielded as it comes.
 */
export function tapStream(
  reply: StreamReply,
  onComplete: (response: ChatCompletion) => void,
  onIncomplete: () => void,
): StreamReply {
  let response: ChatCompletion | undefined;
  let readToEnd = false;
  let settled = false;
  const complete = () => {
    if (settled || response === undefined || !readToEnd) return;
    settled = true;
    onComplete(response);
  };
  const incomplete = () => {
    if (settled) return;
    settled = true;
    onIncomplete();
  };
  // The two signals arrive in either order: the assembled answer can resolve a tick before the
  // source iterator reports its end.
  reply.response.then((r) => {
    response = r;
    complete();
  }, incomplete);
  const source = reply.chunks;
  let used = false;
  async function* pass(): AsyncGenerator<ChatCompletionChunk> {
    try {
      for await (const chunk of source) yield chunk;
      readToEnd = true;
      complete();
    } finally {
      if (!readToEnd) incomplete();
    }
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

/**
 * The chunks a provider streams for `response`, in the OpenAI wire shapes (`logprobs: null` on every
 * choice, as OpenAI sends it): a role chunk (`{ role: 'assistant', content: '' }`), the content, any refusal, each tool call (its id and
 * name, then its arguments), a finish chunk, and a usage chunk with `choices: []`. The system
 * fingerprint rides on every chunk when the answer had one. (Core's `responseToChunks` has no refusal
 * or fingerprint and sends each tool call whole.)
 */
export function replayChunks(response: ChatCompletion): ChatCompletionChunk[] {
  const base: Omit<ChatCompletionChunk, 'choices'> = {
    id: response.id,
    object: 'chat.completion.chunk',
    created: response.created,
    model: response.model,
  };
  if (response.system_fingerprint !== undefined) base.system_fingerprint = response.system_fingerprint;
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of response.choices) {
    const index = choice.index;
    const message = choice.message;
    chunks.push({
      ...base,
      choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }],
    });
    if (message.content) {
      chunks.push({
        ...base,
        choices: [{ index, delta: { content: message.content }, finish_reason: null, logprobs: null }],
      });
    }
    if (message.refusal) {
      chunks.push({
        ...base,
        choices: [{ index, delta: { refusal: message.refusal }, finish_reason: null, logprobs: null }],
      });
    }
    if (message.tool_calls) {
      for (let i = 0; i < message.tool_calls.length; i++) {
        const t = message.tool_calls[i]!;
        chunks.push({
          ...base,
          choices: [
            {
              index,
              delta: {
                tool_calls: [
                  { index: i, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } },
                ],
              },
              finish_reason: null,
              logprobs: null,
            },
          ],
        });
        if (t.function.arguments) {
          chunks.push({
            ...base,
            choices: [
              {
                index,
                delta: { tool_calls: [{ index: i, function: { arguments: t.function.arguments } }] },
                finish_reason: null,
                logprobs: null,
              },
            ],
          });
        }
      }
    }
    chunks.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason, logprobs: null }] });
  }
  if (response.usage) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}

/** A cached answer as a stream reply for a streaming caller. */
export function replayStream(response: ChatCompletion): StreamReply {
  const chunks = replayChunks(response);
  async function* replay(): AsyncGenerator<ChatCompletionChunk> {
    yield* chunks;
  }
  return streamReply(replay());
}

/**
 * Whether an answer may be stored: every choice finished normally (`stop`, `length`, `tool_calls`),
 * none was content-filtered or refused, and there is something in it.
 */
export function storable(response: ChatCompletion): boolean {
  const choices = response.choices;
  if (!Array.isArray(choices) || choices.length === 0) return false;
  for (const c of choices) {
    const f = c.finish_reason;
    if (f !== 'stop' && f !== 'length' && f !== 'tool_calls' && f !== 'function_call') return false;
    if (c.message?.refusal) return false;
    if (!c.message?.content && !c.message?.tool_calls?.length) return false;
  }
  return true;
}
