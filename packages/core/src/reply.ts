import { AbortError } from './errors.js';
import type { ResponseReply, StreamReply } from './types.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall } from './wire.js';

interface ChoiceState {
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
}

/** Builds the whole answer from chunks as they pass; O(1) work per chunk. */
export class ChunkAssembler {
  private id = '';
  private model = '';
  private created = 0;
  private fingerprint: string | null | undefined;
  private usage: ChatCompletion['usage'];
  private readonly choices: ChoiceState[] = [];
  /** Number of chunks seen. */
  count = 0;

  add(chunk: ChatCompletionChunk): void {
    if (this.count++ === 0) {
      this.id = chunk.id;
      this.model = chunk.model;
      this.created = chunk.created;
    }
    if (chunk.system_fingerprint !== undefined) this.fingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of chunk.choices) {
      let s = this.choices[c.index];
      if (!s) {
        s = { content: null, refusal: null, toolCalls: [], finishReason: null };
        this.choices[c.index] = s;
      }
      const d = c.delta;
      if (d.content) s.content = (s.content ?? '') + d.content;
      if (d.refusal) s.refusal = (s.refusal ?? '') + d.refusal;
      if (d.tool_calls) {
        for (const t of d.tool_calls) {
          let call = s.toolCalls[t.index];
          if (!call) {
            call = { id: t.id ?? '', type: 'function', function: { name: '', arguments: '' } };
            s.toolCalls[t.index] = call;
          }
          if (t.id) call.id = t.id;
          if (t.function?.name) call.function.name += t.function.name;
          if (t.function?.arguments) call.function.arguments += t.function.arguments;
        }
      }
      if (c.finish_reason) s.finishReason = c.finish_reason;
    }
  }

  result(): ChatCompletion {
    const response: ChatCompletion = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: this.choices.map((s, index) => ({
        index,
        message: {
          role: 'assistant' as const,
          content: s.content,
          ...(s.toolCalls.length > 0 ? { tool_calls: s.toolCalls.filter(Boolean) } : {}),
          ...(s.refusal !== null ? { refusal: s.refusal } : {}),
        },
        finish_reason: s.finishReason,
      })),
    };
    if (this.usage) response.usage = this.usage;
    if (this.fingerprint !== undefined) response.system_fingerprint = this.fingerprint;
    return response;
  }
}

function settleable<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A stream's final answer may legitimately go unobserved; never let that become an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Wraps a chunk source as a `StreamReply`: chunks pass straight through while the final answer is
 * assembled. If the consumer stops early the source is closed (which aborts the upstream) and
 * `response` rejects with an `AbortError`.
 */
export function streamReply(source: AsyncIterable<ChatCompletionChunk>): StreamReply {
  const done = settleable<ChatCompletion>();
  const assembler = new ChunkAssembler();
  let used = false;
  async function* pass(): AsyncGenerator<ChatCompletionChunk> {
    let finished = false;
    try {
      for await (const chunk of source) {
        assembler.add(chunk);
        yield chunk;
      }
      finished = true;
      done.resolve(assembler.result());
    } catch (err) {
      finished = true;
      done.reject(err);
      throw err;
    } finally {
      if (!finished) done.reject(new AbortError('the stream was closed before it ended'));
    }
  }
  return {
    type: 'stream',
    response: done.promise,
    chunks: {
      [Symbol.asyncIterator]() {
        if (used) throw new TypeError('a stream reply can be read only once');
        used = true;
        return pass();
      },
    },
  };
}

export function responseReply(response: ChatCompletion): ResponseReply {
  return { type: 'response', response };
}

/** The chunks a provider would have streamed for `response` (used to replay whole answers as streams). */
export function responseToChunks(response: ChatCompletion): ChatCompletionChunk[] {
  const base = {
    id: response.id,
    object: 'chat.completion.chunk' as const,
    created: response.created,
    model: response.model,
  };
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of response.choices) {
    const { message } = choice;
    chunks.push({
      ...base,
      choices: [{ index: choice.index, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    if (message.content) {
      chunks.push({
        ...base,
        choices: [{ index: choice.index, delta: { content: message.content }, finish_reason: null }],
      });
    }
    if (message.tool_calls?.length) {
      chunks.push({
        ...base,
        choices: [
          {
            index: choice.index,
            delta: {
              tool_calls: message.tool_calls.map((t, index) => ({
                index,
                id: t.id,
                type: 'function' as const,
                function: { name: t.function.name, arguments: t.function.arguments },
              })),
            },
            finish_reason: null,
          },
        ],
      });
    }
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  if (response.usage) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}

/** A whole answer as a stream reply (for example a cache hit served to a streaming caller). */
export function responseAsStream(response: ChatCompletion): StreamReply {
  const chunks = responseToChunks(response);
  async function* replay(): AsyncGenerator<ChatCompletionChunk> {
    yield* chunks;
  }
  return streamReply(replay());
}
