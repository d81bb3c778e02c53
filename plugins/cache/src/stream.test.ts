import { type ChatCompletion, type ChatCompletionChunk, ChunkAssembler, streamReply } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.js';
import { entry } from './store-conformance.test-suite.js';
import { replayChunks, replayStream, storable, tapStream } from './stream.js';

const answer = (patch: Partial<ChatCompletion> = {}): ChatCompletion => ({
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  system_fingerprint: 'fp_1',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' },
    {
      index: 1,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
          { id: 'call_2', type: 'function', function: { name: 'b', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
    {
      index: 2,
      message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } },
  ...patch,
});

async function* from(chunks: ChatCompletionChunk[], failAt = -1): AsyncGenerator<ChatCompletionChunk> {
  for (let i = 0; i < chunks.length; i++) {
    if (i === failAt) throw new Error('upstream broke');
    yield chunks[i]!;
  }
}

describe('replayChunks', () => {
  it('reassembles to the same answer: content, tool calls, refusal, fingerprint, usage', () => {
    const a = new ChunkAssembler();
    for (const c of replayChunks(answer())) a.add(c);
    expect(a.result()).toEqual(answer());
  });

  it('uses the OpenAI chunk shapes: role chunk first, usage chunk last with no choices', () => {
    const chunks = replayChunks(answer());
    expect(chunks[0]?.choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      finish_reason: null,
      logprobs: null,
    });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: answer().usage });
    for (const c of chunks)
      expect(c).toMatchObject({ object: 'chat.completion.chunk', id: 'c1', system_fingerprint: 'fp_1' });
    const toolStart = chunks.find((c) => c.choices[0]?.delta.tool_calls?.[0]?.id === 'call_1');
    expect(toolStart?.choices[0]?.delta.tool_calls?.[0]).toEqual({
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'a', arguments: '' },
    });
  });

  it('a replayed stream resolves its assembled answer once read', async () => {
    const reply = replayStream(answer());
    const seen: ChatCompletionChunk[] = [];
    for await (const c of reply.chunks) seen.push(c);
    expect(seen).toHaveLength(replayChunks(answer()).length);
    expect(await reply.response).toEqual(answer());
  });
});

describe('tapStream', () => {
  const chunks = replayChunks(answer({ choices: [answer().choices[0]!] }));

  it('reports completion only after the reader has read every chunk', async () => {
    const done: ChatCompletion[] = [];
    let incomplete = 0;
    const reply = tapStream(
      streamReply(from(chunks)),
      (r) => done.push(r),
      () => incomplete++,
    );
    const it = reply.chunks[Symbol.asyncIterator]();
    await it.next();
    expect(done).toHaveLength(0);
    while (!(await it.next()).done) {
      // read on
    }
    await reply.response;
    await Promise.resolve();
    expect(done).toHaveLength(1);
    expect(done[0]?.choices[0]?.message.content).toBe('Hello there');
    expect(incomplete).toBe(0);
  });

  it('reports an early stop or a failure as incomplete, never as complete', async () => {
    for (const mode of ['break', 'fail'] as const) {
      let complete = 0;
      let incomplete = 0;
      const reply = tapStream(
        streamReply(from(chunks, mode === 'fail' ? 2 : -1)),
        () => complete++,
        () => incomplete++,
      );
      try {
        for await (const _ of reply.chunks) if (mode === 'break') break;
      } catch {
        // the failure reaches the reader
      }
      await reply.response.catch(() => {});
      await Promise.resolve();
      expect({ mode, complete, incomplete }).toEqual({ mode, complete: 0, incomplete: 1 });
    }
  });
});

describe('storable', () => {
  it('stores finished answers only', () => {
    const one = answer({ choices: [answer().choices[0]!] });
    expect(storable(one)).toBe(true);
    expect(storable({ ...one, choices: [{ ...one.choices[0]!, finish_reason: 'length' }] })).toBe(true);
    expect(storable({ ...one, choices: [{ ...one.choices[0]!, finish_reason: 'content_filter' }] })).toBe(false);
    expect(storable({ ...one, choices: [{ ...one.choices[0]!, finish_reason: null }] })).toBe(false);
    expect(storable({ ...one, choices: [] })).toBe(false);
    expect(storable({ ...one, choices: [{ ...one.choices[0]!, message: { role: 'assistant', content: '' } }] })).toBe(
      false,
    );
    expect(storable(answer())).toBe(false); // one choice is a refusal
  });
});

describe('single-flight waits', () => {
  it('end when the caller aborts, and a stuck flight stops being joinable after maxWaitMs', async () => {
    const flights = new SingleFlight(50);
    expect(flights.join('k')).toBeUndefined();
    const flight = flights.lead('k');
    const ac = new AbortController();
    const waiting = flights.wait('k', flight, ac.signal, true);
    ac.abort();
    expect(await waiting).toBeUndefined();
    expect(flights.join('k')).toBe(flight);
    expect(await flights.wait('k', flight, new AbortController().signal, false)).toBeUndefined();
    expect(flights.join('k')).toBeUndefined(); // forgotten after the bounded wait: a new leader
    const next = flights.lead('k');
    expect(next).not.toBe(flight);
    const e = entry('shared');
    const follower = flights.wait('k', next, new AbortController().signal, false);
    flights.settle(next, e);
    expect(await follower).toBe(e);
  });
});
