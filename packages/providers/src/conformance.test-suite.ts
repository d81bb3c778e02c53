/**
 * The provider conformance suite: every provider runs the same tests against the real mock HTTP server
 * (`@flowgate/mock-provider`). Call `providerConformance()` inside a test file; it registers its own hooks.
 */
import {
  AbortError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  ConnectionError,
  ContextLengthError,
  ErrorCode,
  FlowgateError,
  MalformedResponseError,
  type Provider,
  RateLimitError,
  type Reply,
  type StreamReply,
  StreamTruncatedError,
  TimeoutError,
  UpstreamAuthError,
  UpstreamClientError,
  UpstreamServerError,
} from '@flowgate/core';
import { countPromptTokens, type Fault, type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptContext } from './test-context.test-suite.js';

export interface ConformanceOptions {
  /** Suite title. */
  name: string;
  /** A model the provider serves and the mock answers in this protocol. */
  model: string;
  /** Builds the provider under test for `mock`, sending `apiKey`. Give it a non-default id. */
  create(mock: MockProvider, apiKey: string): Provider;
  /** The protocol reports prompt-cache writes (`prompt_tokens_details.cache_creation_tokens`). */
  cacheCreation: boolean;
  /** The provider implements `embed()`. */
  embeddings: boolean;
}

const API_KEY = 'sk-conformance-9f8e7d6c5b4a3210';
const QUESTION = 'what is the answer to everything please';
const ANSWER = 'The answer is forty two and that is all there is to say about it today.';

export function providerConformance(options: ConformanceOptions): void {
  const { model } = options;

  describe(`provider conformance: ${options.name}`, () => {
    let mock: MockProvider;
    let provider: Provider;
    const agent = new Agent();

    beforeAll(async () => {
      mock = await startMockProvider({ apiKey: API_KEY });
      provider = options.create(mock, API_KEY);
    });

    afterAll(async () => {
      await mock.close();
      await agent.close();
    });

    beforeEach(() => {
      mock.configure(model, { text: ANSWER }, { replace: true });
      mock.script(model, []);
      mock.reset();
    });

    const request = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
      model,
      messages: [{ role: 'user', content: QUESTION }],
      ...extra,
    });

    const send = (
      streaming: boolean,
      extra: { request?: ChatCompletionRequest; signal?: AbortSignal; provider?: Provider } = {},
    ): Promise<Reply> => {
      const p = extra.provider ?? provider;
      return p.send(
        attemptContext({
          provider: p,
          request: extra.request ?? request(),
          dispatcher: agent,
          streaming,
          ...(extra.signal ? { signal: extra.signal } : {}),
        }),
      );
    };

    async function whole(req?: ChatCompletionRequest): Promise<ChatCompletion> {
      const reply = await send(false, req ? { request: req } : {});
      expect(reply.type).toBe('response');
      return (reply as { response: ChatCompletion }).response;
    }

    async function streamed(
      req?: ChatCompletionRequest,
    ): Promise<{ chunks: ChatCompletionChunk[]; response: ChatCompletion }> {
      const reply = await send(true, req ? { request: req } : {});
      expect(reply.type).toBe('stream');
      const s = reply as StreamReply;
      const chunks: ChatCompletionChunk[] = [];
      for await (const c of s.chunks) chunks.push(c);
      return { chunks, response: await s.response };
    }

    /** The error a call fails with (whole, or streamed and read to the end); checks it never carries the key. */
    async function failure(streaming: boolean, extra: { signal?: AbortSignal; provider?: Provider } = {}) {
      let error: unknown;
      try {
        const reply = await send(streaming, extra);
        if (reply.type === 'stream') for await (const _ of reply.chunks);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(FlowgateError);
      const e = error as FlowgateError;
      expect(`${e.message}\n${e.stack}\n${String(e.cause)}\n${JSON.stringify(e)}`).not.toContain(API_KEY);
      return e;
    }

    const scriptOnce = (fault: Fault) => mock.script(model, [fault]);

    it('has an id, a system and an address', () => {
      expect(provider.id).not.toBe('');
      expect(provider.system).toMatch(/^[a-z]+$/);
      expect(provider.address).toEqual({ host: '127.0.0.1', port: mock.port });
      expect(provider.origin).toBe(mock.url);
      expect(provider.serves(model)).toBe(true);
    });

    describe('answers', () => {
      it('returns a whole answer', async () => {
        const response = await whole();
        expect(response.object).toBe('chat.completion');
        expect(response.model).toBe(model);
        expect(response.choices).toHaveLength(1);
        expect(response.choices[0]!.message.role).toBe('assistant');
        expect(response.choices[0]!.message.content).toBe(ANSWER);
        expect(response.choices[0]!.finish_reason).toBe('stop');
        const prompt = countPromptTokens([QUESTION]);
        const completion = ANSWER.split(' ').length;
        expect(response.usage).toMatchObject({
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
        });
        expect(mock.stats().requests).toBe(1);
      });

      it('streams an answer that assembles to the whole one', async () => {
        const w = await whole();
        const s = await streamed();
        expect(s.chunks.length).toBeGreaterThan(ANSWER.split(' ').length);
        expect(s.chunks[0]!.choices[0]!.delta.role).toBe('assistant');
        expect(s.chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
        const last = s.chunks.at(-1)!;
        expect(last.choices).toEqual([]);
        expect(last.usage).toEqual(w.usage);
        expect(s.response.choices[0]!.message.content).toBe(w.choices[0]!.message.content);
        expect(s.response.choices[0]!.finish_reason).toBe(w.choices[0]!.finish_reason);
        expect(s.response.usage).toEqual(w.usage);
        expect(mock.stats().streamsCompleted).toBe(1);
      });

      it('reports a length finish when max_tokens cuts the answer', async () => {
        const response = await whole(request({ max_tokens: 3 }));
        expect(response.choices[0]!.finish_reason).toBe('length');
        expect(response.usage!.completion_tokens).toBe(3);
      });

      it('reports cached prompt tokens exactly as the upstream does, whole and streamed', async () => {
        mock.configure(model, { cachedTokens: 5, cacheCreationTokens: 2 });
        const prompt = countPromptTokens([QUESTION]);
        const w = await whole();
        const s = await streamed();
        for (const usage of [w.usage!, s.response.usage!]) {
          expect(usage.prompt_tokens).toBe(prompt);
          expect(usage.prompt_tokens_details?.cached_tokens).toBe(5);
          if (options.cacheCreation) expect(usage.prompt_tokens_details?.cache_creation_tokens).toBe(2);
        }
        expect(s.response.usage).toEqual(w.usage);
      });
    });

    describe('tools', () => {
      const withTools = () =>
        request({
          tools: [
            {
              type: 'function',
              function: {
                name: 'search',
                description: 'search the web',
                parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
              },
            },
          ],
          tool_choice: 'required',
        });

      it('returns a tool call whole and streamed', async () => {
        const w = await whole(withTools());
        const call = w.choices[0]!.message.tool_calls?.[0];
        expect(w.choices[0]!.finish_reason).toBe('tool_calls');
        expect(call?.type).toBe('function');
        expect(call?.id).not.toBe('');
        expect(call?.function.name).toBe('search');
        expect(JSON.parse(call!.function.arguments)).toEqual({ query: QUESTION });

        const s = await streamed(withTools());
        expect(s.chunks.some((c) => c.choices[0]?.delta.tool_calls?.[0]?.index === 0)).toBe(true);
        const sc = s.response.choices[0]!.message.tool_calls?.[0];
        expect(s.response.choices[0]!.finish_reason).toBe('tool_calls');
        expect(sc?.function.name).toBe('search');
        expect(JSON.parse(sc!.function.arguments)).toEqual({ query: QUESTION });
        expect(s.response.usage).toEqual(w.usage);
      });

      it('sends a tool result back and gets a text answer', async () => {
        const first = await whole(withTools());
        const call = first.choices[0]!.message.tool_calls![0]!;
        const response = await whole({
          ...withTools(),
          tool_choice: 'auto',
          messages: [
            { role: 'user', content: QUESTION },
            { role: 'assistant', content: null, tool_calls: [call] },
            { role: 'tool', tool_call_id: call.id, content: '42' },
          ],
        });
        expect(response.choices[0]!.finish_reason).toBe('stop');
        expect(response.choices[0]!.message.content).toBe(ANSWER);
      });
    });

    describe('streaming', () => {
      it('delivers the first chunk before the upstream has sent its last', async () => {
        mock.configure(model, { tokensPerSecond: 20 });
        const reply = (await send(true)) as StreamReply;
        const it = reply.chunks[Symbol.asyncIterator]();
        let first = await it.next();
        // The role chunk goes out with the headers; wait for the first piece of content.
        while (!first.done && !first.value.choices[0]?.delta.content) first = await it.next();
        expect(first.done).toBe(false);
        expect(mock.stats().streamsCompleted).toBe(0);
        let rest = 0;
        while (!(await it.next()).done) rest++;
        expect(rest).toBeGreaterThan(0);
        expect(mock.stats().streamsCompleted).toBe(1);
      });

      it('closes the upstream stream when the consumer stops early', async () => {
        mock.configure(model, { tokensPerSecond: 20 });
        const reply = (await send(true)) as StreamReply;
        for await (const _ of reply.chunks) break;
        await expect(reply.response).rejects.toBeInstanceOf(AbortError);
        await waitFor(() => mock.stats().streamsAborted === 1);
        expect(mock.stats().streamsCompleted).toBe(0);
      });

      it('closes the upstream stream when the signal aborts mid-stream', async () => {
        mock.configure(model, { tokensPerSecond: 20 });
        const controller = new AbortController();
        const reply = (await send(true, { signal: controller.signal })) as StreamReply;
        let error: unknown;
        let seen = 0;
        try {
          for await (const _ of reply.chunks) {
            seen++;
            if (seen === 2) controller.abort(new Error('client went away'));
          }
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(AbortError);
        expect((error as AbortError).code).toBe(ErrorCode.ABORTED);
        await waitFor(() => mock.stats().streamsAborted === 1);
      });
    });

    describe('faults', () => {
      it.each([
        [{ retryAfter: 3 }, 3000],
        [{ retryAfterMs: 1250 }, 1250],
      ])('maps 429 %j to RateLimitError with retryAfterMs', async (headers, expected) => {
        scriptOnce({ type: 'status', status: 429, ...headers });
        const e = await failure(false);
        expect(e).toBeInstanceOf(RateLimitError);
        expect(e.code).toBe(ErrorCode.RATE_LIMITED);
        expect(e.status).toBe(429);
        expect(e.provider).toBe(provider.id);
        expect(e.retryable).toBe(true);
        expect((e as RateLimitError).retryAfterMs).toBe(expected);
      });

      it('maps 429 on a streamed call too', async () => {
        scriptOnce({ type: 'status', status: 429, retryAfter: 1 });
        const e = await failure(true);
        expect(e).toBeInstanceOf(RateLimitError);
        expect((e as RateLimitError).retryAfterMs).toBe(1000);
      });

      it.each([500, 502, 503, 529])('maps %i to UpstreamServerError', async (status) => {
        scriptOnce({ type: 'status', status });
        const e = await failure(false);
        expect(e).toBeInstanceOf(UpstreamServerError);
        expect(e.code).toBe(ErrorCode.UPSTREAM_SERVER);
        expect(e.status).toBe(status);
        expect(e.provider).toBe(provider.id);
        expect(e.retryable).toBe(true);
      });

      it('quotes the upstream message', async () => {
        scriptOnce({ type: 'status', status: 503, message: 'the llamas are resting' });
        expect((await failure(true)).message).toContain('the llamas are resting');
      });

      it('maps a context-length 400 to ContextLengthError', async () => {
        scriptOnce({ type: 'status', status: 400, code: 'context_length_exceeded' });
        const e = await failure(false);
        expect(e).toBeInstanceOf(ContextLengthError);
        expect(e.code).toBe(ErrorCode.CONTEXT_LENGTH);
        expect(e.status).toBe(400);
      });

      it('maps another 400 to UpstreamClientError', async () => {
        scriptOnce({ type: 'status', status: 400, message: 'bad field' });
        const e = await failure(false);
        expect(e).toBeInstanceOf(UpstreamClientError);
        expect(e.code).toBe(ErrorCode.UPSTREAM_CLIENT);
        expect(e.retryable).toBe(false);
      });

      it('maps 401 (wrong key) to UpstreamAuthError without leaking the key', async () => {
        const wrongKey = 'sk-wrong-key-000111222333';
        const wrong = options.create(mock, wrongKey);
        let error: unknown;
        try {
          await send(false, { provider: wrong });
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(UpstreamAuthError);
        const e = error as UpstreamAuthError;
        expect(e.code).toBe(ErrorCode.UPSTREAM_AUTH);
        expect(e.status).toBe(401);
        expect(`${e.message}${e.stack}${String(e.cause)}`).not.toContain(wrongKey);
      });

      it('redacts the key when the upstream echoes it in an error', async () => {
        scriptOnce({ type: 'status', status: 400, message: `invalid key ${API_KEY} for this model` });
        const e = await failure(false); // failure() asserts the key is absent
        expect(e.message).toContain('invalid key [REDACTED] for this model');
      });

      it.each([false, true])('maps a connection reset to ConnectionError (streamed: %s)', async (streaming) => {
        scriptOnce({ type: 'reset' });
        const e = await failure(streaming);
        expect(e).toBeInstanceOf(ConnectionError);
        expect(e.code).toBe(ErrorCode.CONNECTION);
        expect(e.provider).toBe(provider.id);
      });

      it('gives up on a hanging upstream when the signal times out', async () => {
        scriptOnce({ type: 'hang' });
        const e = await failure(false, { signal: AbortSignal.timeout(200) });
        expect(e).toBeInstanceOf(AbortError);
        await waitFor(() => mock.stats().requestsAborted === 1);
      });

      it('rethrows the deadline error the core set as the abort reason', async () => {
        scriptOnce({ type: 'hang' });
        const controller = new AbortController();
        const deadline = new TimeoutError('call deadline passed');
        const pending = failure(true, { signal: controller.signal });
        await waitFor(() => (mock.stats().faultsInjected.hang ?? 0) === 1);
        controller.abort(deadline);
        expect(await pending).toBe(deadline);
      });

      it('aborts a stalled stream', async () => {
        scriptOnce({ type: 'stall', afterChunks: 4 });
        const controller = new AbortController();
        const reply = (await send(true, { signal: controller.signal })) as StreamReply;
        const reading = (async () => {
          try {
            for await (const _ of reply.chunks);
          } catch (err) {
            return err;
          }
        })();
        await waitFor(() => mock.stats().chunksSent === 4);
        controller.abort(new Error('gave up waiting'));
        expect(await reading).toBeInstanceOf(AbortError);
        await waitFor(() => mock.stats().streamsAborted === 1);
      });

      it.each([false, true])('maps malformed JSON to MalformedResponseError (streamed: %s)', async (streaming) => {
        scriptOnce({ type: 'malformed-json' });
        const e = await failure(streaming);
        expect(e).toBeInstanceOf(MalformedResponseError);
        expect(e.code).toBe(ErrorCode.MALFORMED_RESPONSE);
        expect(e.provider).toBe(provider.id);
      });

      it('maps a body that is not an event stream to MalformedResponseError', async () => {
        scriptOnce({ type: 'malformed-sse' });
        const e = await failure(true);
        expect(e).toBeInstanceOf(MalformedResponseError);
      });

      it('maps a stream that ends without its terminator to StreamTruncatedError', async () => {
        scriptOnce({ type: 'truncate' });
        const reply = (await send(true)) as StreamReply;
        const chunks: ChatCompletionChunk[] = [];
        let error: unknown;
        try {
          for await (const c of reply.chunks) chunks.push(c);
        } catch (err) {
          error = err;
        }
        expect(chunks.length).toBeGreaterThan(0);
        expect(error).toBeInstanceOf(StreamTruncatedError);
        expect((error as StreamTruncatedError).code).toBe(ErrorCode.STREAM_TRUNCATED);
        await expect(reply.response).rejects.toBe(error);
      });

      it('maps a whole body cut short (connection closed) to ConnectionError', async () => {
        scriptOnce({ type: 'truncate' });
        const e = await failure(false);
        expect(e).toBeInstanceOf(ConnectionError);
        expect(e.retryable).toBe(true);
      });

      it('recovers on the next call after a fault', async () => {
        mock.script(model, [{ type: 'status', status: 500 }, 'ok']);
        await failure(false);
        expect((await whole()).choices[0]!.message.content).toBe(ANSWER);
      });
    });

    if (options.embeddings) {
      it('embeds', async () => {
        const out = await provider.embed!(
          { model: 'text-embedding-mock', input: ['a', 'b'] },
          { signal: new AbortController().signal, dispatcher: agent },
        );
        expect(out.data).toHaveLength(2);
        expect(out.data[1]!.index).toBe(1);
        expect(out.data[0]!.embedding.length).toBeGreaterThan(0);
        expect(mock.stats().byPath['/v1/embeddings']).toBe(1);
      });
    }
  });
}

/** Polls until `check` holds (a safety net against hanging, not an assertion on time). */
async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
