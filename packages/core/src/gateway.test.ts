import { DataPointType, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import type { Dispatcher } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  ConfigError,
  ErrorCode,
  InvalidRequestError,
  NoProviderError,
  TimeoutError,
  UpstreamServerError,
} from './errors.js';
import { chunk, completion, fakeProvider, telemetry } from './fakes.test-util.js';
import { createGateway } from './gateway.js';
import { responseReply } from './reply.js';
import { createStateKey } from './state.js';
import type { Plugin, Router } from './types.js';
import type { ChatCompletionRequest } from './wire.js';

const req = (model = 'm'): ChatCompletionRequest => ({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('createGateway: configuration', () => {
  it('needs a provider, unique provider ids and unique plugin names', () => {
    expect(() => createGateway({ providers: [] })).toThrow(ConfigError);
    expect(() => createGateway({ providers: [fakeProvider('a'), fakeProvider('a')] })).toThrow(/two providers/);
    const p: Plugin = { name: 'x', setup() {} };
    expect(() => createGateway({ providers: [fakeProvider('a')], plugins: [p, { ...p }] })).toThrow(
      /two plugins are named "x"/,
    );
  });

  it('fails creation when a declared dependency is missing', () => {
    const p: Plugin = { name: 'router-ext', dependsOn: ['router'], setup() {} };
    expect(() => createGateway({ providers: [fakeProvider('a')], plugins: [p] })).toThrow(
      /plugin "router-ext" depends on plugin "router", which is not installed/,
    );
  });

  it('throws when a plugin registers after the gateway started', async () => {
    let saved: Parameters<Plugin['setup']>[0] | undefined;
    const late: Plugin = {
      name: 'late',
      setup(host) {
        saved = host;
      },
    };
    createGateway({ providers: [fakeProvider('a')], plugins: [late] });
    expect(() => saved!.useCall(async (_c, n) => n())).toThrow(/after the gateway started/);
    expect(() => saved!.onResponse(() => {})).toThrow(ConfigError);
  });

  it('refuses a second router', () => {
    const r: Router = { name: 'r', plan: () => [] };
    const a: Plugin = { name: 'a', setup: (h) => h.setRouter(r) };
    const b: Plugin = { name: 'b', setup: (h) => h.setRouter(r) };
    expect(() => createGateway({ providers: [fakeProvider('p')], plugins: [a, b] })).toThrow(/already did/);
  });
});

describe('gateway.complete', () => {
  it('routes to the first provider that serves the model', async () => {
    const a = fakeProvider('a', { models: ['x'] });
    const b = fakeProvider('b');
    const c = fakeProvider('c');
    const gw = createGateway({ providers: [a, b, c] });
    const res = await gw.complete(req('y'));
    expect(res.choices[0]?.message.content).toBe('hello world');
    expect(res.flowgate.provider).toBe('b');
    expect(res.flowgate.attempts).toEqual([expect.objectContaining({ provider: 'b', model: 'y', outcome: 'ok' })]);
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([0, 1, 0]);
  });

  it('fails with FLOWGATE_ERR_NO_PROVIDER when no provider serves the model', async () => {
    const gw = createGateway({ providers: [fakeProvider('a', { models: ['x'] })] });
    const err = await gw.complete(req('nope')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoProviderError);
    expect((err as NoProviderError).code).toBe(ErrorCode.NO_PROVIDER);
  });

  it('rejects an invalid request before any plugin or provider sees it', async () => {
    const p = fakeProvider('a');
    let hooks = 0;
    const gw = createGateway({
      providers: [p],
      plugins: [{ name: 'h', setup: (h) => h.onRequest(() => void hooks++) }],
    });
    const bad = { model: 'm', messages: [{ role: 'robot', content: 'x' }] } as unknown as ChatCompletionRequest;
    const err = await gw.complete(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).field).toBe('messages[0].role');
    expect(hooks).toBe(0);
    expect(p.calls).toHaveLength(0);
  });

  it('runs call and attempt middleware across plugins, first registered outermost', async () => {
    const log: string[] = [];
    const plugin = (name: string): Plugin => ({
      name,
      setup(h) {
        h.onRequest(() => void log.push(`${name}:request`));
        h.useCall(async (_ctx, next) => {
          log.push(`${name}:call in`);
          const r = await next();
          log.push(`${name}:call out`);
          return r;
        });
        h.useAttempt(async (ctx, next) => {
          log.push(`${name}:attempt ${ctx.attempt} ${ctx.target.provider.id}`);
          return next();
        });
      },
    });
    const gw = createGateway({ providers: [fakeProvider('p')], plugins: [plugin('one'), plugin('two')] });
    await gw.complete(req());
    expect(log).toEqual([
      'one:request',
      'two:request',
      'one:call in',
      'two:call in',
      'one:attempt 1 p',
      'two:attempt 1 p',
      'two:call out',
      'one:call out',
    ]);
  });

  it('lets onRequest rewrite the request and plugins share typed state', async () => {
    const key = createStateKey<number>('seen');
    const p = fakeProvider('p');
    const plugin: Plugin = {
      name: 'rewrite',
      setup(h) {
        h.onRequest((ctx) => {
          ctx.request = { ...ctx.request, model: 'rewritten' };
          ctx.set(key, 41);
        });
        h.useAttempt(async (ctx, next) => {
          ctx.set(key, (ctx.get(key) ?? 0) + 1);
          return next();
        });
        h.onResponse((ctx) => {
          expect(ctx.get(key)).toBe(42);
        });
      },
    };
    const gw = createGateway({ providers: [p], plugins: [plugin] });
    const res = await gw.complete(req('original'));
    expect(p.calls[0]?.targetRequest.model).toBe('rewritten');
    expect(res.model).toBe('rewritten');
  });

  it('never lets an observer fail the call, and records the failure on the span', async () => {
    const t = telemetry();
    let errorsSeen = 0;
    const plugin: Plugin = {
      name: 'bad-observer',
      setup(h) {
        h.onResponse(() => {
          throw new Error('observer boom');
        });
        h.onResponse(async () => {
          throw new Error('async observer boom');
        });
        h.onError(() => {
          errorsSeen++;
          throw new Error('error observer boom');
        });
      },
    };
    const gw = createGateway({ providers: [fakeProvider('p')], plugins: [plugin], tracerProvider: t.tracerProvider });
    const res = await gw.complete(req());
    expect(res.choices[0]?.message.content).toBe('hello world');
    const span = (await t.spans()).find((s) => s.name === 'chat m');
    const events = span?.events.filter((e) => e.name === 'flowgate.observer_error') ?? [];
    expect(events.map((e) => e.attributes?.['exception.message'])).toEqual(['observer boom', 'async observer boom']);

    const failing = createGateway({
      providers: [fakeProvider('p', { fail: () => new UpstreamServerError('down', { status: 503 }) })],
      plugins: [plugin],
    });
    await expect(failing.complete(req())).rejects.toBeInstanceOf(UpstreamServerError);
    expect(errorsSeen).toBe(1);
  });

  it('falls back along the router plan on retryable errors, and stops on others', async () => {
    const down = fakeProvider('down', {
      fail: () => new UpstreamServerError('503', { status: 503, provider: 'down' }),
    });
    const up = fakeProvider('up');
    const router: Router = {
      name: 'both',
      plan: () => [
        { provider: down, model: 'm1' },
        { provider: up, model: 'm2' },
      ],
    };
    const gw = createGateway({ providers: [down, up], plugins: [{ name: 'r', setup: (h) => h.setRouter(router) }] });
    const res = await gw.complete(req());
    expect(res.flowgate.provider).toBe('up');
    expect(res.flowgate.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
      ['down', 'error', ErrorCode.UPSTREAM_SERVER],
      ['up', 'ok', undefined],
    ]);
    expect(up.calls[0]?.targetRequest.model).toBe('m2');

    const bad = fakeProvider('bad', { fail: () => new InvalidRequestError('model', 'nope') });
    const gw2 = createGateway({
      providers: [bad, up],
      plugins: [
        {
          name: 'r',
          setup: (h) =>
            h.setRouter({
              name: 'x',
              plan: () => [
                { provider: bad, model: 'a' },
                { provider: up, model: 'b' },
              ],
            }),
        },
      ],
    });
    await expect(gw2.complete(req())).rejects.toBeInstanceOf(InvalidRequestError);
    expect(up.calls).toHaveLength(1);
  });

  it('pulls an iterable plan one target at a time, after each failure', async () => {
    let failures = 2;
    const flaky = fakeProvider('flaky', {
      fail: () => (failures-- > 0 ? new UpstreamServerError('503', { status: 503 }) : undefined),
    });
    const seen: string[] = [];
    const router: Router = {
      name: 'retry-then-stop',
      async *plan(ctx) {
        for (let i = 0; i < 5; i++) {
          yield { provider: flaky, model: ctx.request.model };
          seen.push(ctx.meta.attempts.at(-1)?.outcome ?? 'none');
        }
      },
    };
    const gw = createGateway({ providers: [flaky], plugins: [{ name: 'r', setup: (h) => h.setRouter(router) }] });
    const res = await gw.complete(req());
    expect(res.flowgate.attempts.map((a) => a.outcome)).toEqual(['error', 'error', 'ok']);
    expect(seen).toEqual(['error', 'error']); // the router saw each failure before naming the next target
  });

  it('throws the last error when an iterable plan runs out, and NO_PROVIDER when it is empty', async () => {
    const down = fakeProvider('down', { fail: () => new UpstreamServerError('503', { status: 503 }) });
    const twice: Router = {
      name: 'twice',
      *plan() {
        yield { provider: down, model: 'm' };
        yield { provider: down, model: 'm' };
      },
    };
    const gw = createGateway({ providers: [down], plugins: [{ name: 'r', setup: (h) => h.setRouter(twice) }] });
    await expect(gw.complete(req())).rejects.toBeInstanceOf(UpstreamServerError);
    expect(down.calls).toHaveLength(2);
    const none: Router = { name: 'none', *plan() {} };
    const gw2 = createGateway({ providers: [down], plugins: [{ name: 'r', setup: (h) => h.setRouter(none) }] });
    await expect(gw2.complete(req())).rejects.toBeInstanceOf(NoProviderError);
  });

  it('shows the caller options to plugins and lets a call middleware swap the dispatcher', async () => {
    const p = fakeProvider('p');
    const special = { marker: 'fresh' } as unknown as Dispatcher;
    const plugin: Plugin = {
      name: 'opts',
      setup: (h) =>
        h.useCall(async (ctx, next) => {
          if (ctx.options.metadata?.tags?.fresh === 'yes') ctx.dispatcher = special;
          return next();
        }),
    };
    const gw = createGateway({ providers: [p], plugins: [plugin] });
    await gw.complete(req(), { metadata: { tags: { fresh: 'yes' } } });
    await gw.complete(req());
    expect(p.calls[0]?.dispatcher).toBe(special);
    expect(p.calls[1]?.dispatcher).not.toBe(special);
  });

  it('sends through the dispatcher option, unless a plugin sets one', async () => {
    const option = { marker: 'option' } as unknown as Dispatcher;
    const pooled = { marker: 'pool' } as unknown as Dispatcher;
    const p = fakeProvider('p');
    await createGateway({ providers: [p], dispatcher: option }).complete(req());
    const withPool = createGateway({
      providers: [p],
      dispatcher: option,
      plugins: [{ name: 'pool', setup: (h) => h.setDispatcher(pooled) }],
    });
    await withPool.complete(req());
    expect(p.calls.map((c) => c.dispatcher)).toEqual([option, pooled]);
  });

  it('aborts the call when the caller signal fires, with an AbortError the provider sees', async () => {
    const ac = new AbortController();
    let providerSignal: AbortSignal | undefined;
    const p = fakeProvider('p');
    p.send = (ctx) => {
      providerSignal = ctx.signal;
      return new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason)));
    };
    const gw = createGateway({ providers: [p] });
    const pending = gw.complete(req(), { signal: ac.signal });
    await new Promise((r) => setImmediate(r));
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(providerSignal?.aborted).toBe(true);
  });

  it('turns timeoutMs into a TimeoutError for the whole call', async () => {
    const p = fakeProvider('p');
    p.send = (ctx) => new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason)));
    const gw = createGateway({ providers: [p] });
    const err = await gw.complete(req(), { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe(ErrorCode.TIMEOUT);
  });

  it('fires long deadlines (on the shared coarse timer) with the same TimeoutError, and only when due', async () => {
    vi.useFakeTimers();
    try {
      const p = fakeProvider('p');
      p.send = (ctx) => new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason)));
      const gw = createGateway({ providers: [p], defaultTimeoutMs: 60_000 });
      const outcome: unknown[] = [];
      const first = gw.complete(req()).catch((e: unknown) => outcome.push(e));
      await vi.advanceTimersByTimeAsync(30_000);
      const second = gw.complete(req(), { timeoutMs: 45_000 }).catch((e: unknown) => outcome.push(e));
      await vi.advanceTimersByTimeAsync(29_000);
      expect(outcome).toEqual([]);
      await vi.advanceTimersByTimeAsync(1_200);
      await first;
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toBeInstanceOf(TimeoutError);
      expect((outcome[0] as Error).message).toContain('60000 ms deadline');
      await vi.advanceTimersByTimeAsync(15_200);
      await second;
      expect((outcome[1] as Error).message).toContain('45000 ms deadline');
    } finally {
      vi.useRealTimers();
    }
  });

  it('adopts a controller passed in the options: its signal is the call signal, its abort the call abort', async () => {
    const p = fakeProvider('p');
    const seen: AbortSignal[] = [];
    p.send = (ctx) => {
      seen.push(ctx.signal);
      return new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason)));
    };
    const gw = createGateway({ providers: [p] });
    const cancelled = new AbortController();
    const pending = gw.complete(req(), { controller: cancelled, signal: cancelled.signal });
    await new Promise((r) => setImmediate(r));
    const reason = new AbortError('the call was aborted');
    cancelled.abort(reason);
    expect(await pending.catch((e: unknown) => e)).toBe(reason);
    expect(seen[0]).toBe(cancelled.signal);
    // The deadline aborts the adopted controller itself.
    const timed = new AbortController();
    const err = await gw.complete(req(), { controller: timed, timeoutMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(timed.signal.reason).toBe(err);
    // A separate caller signal still cancels a call with an adopted controller.
    const caller = new AbortController();
    const chained = gw.complete(req(), { controller: new AbortController(), signal: caller.signal });
    await new Promise((r) => setImmediate(r));
    caller.abort();
    expect(await chained.catch((e: unknown) => e)).toBeInstanceOf(AbortError);
  });
  it('drains a stream reply for complete() (a middleware may answer with a stream)', async () => {
    const gw = createGateway({
      providers: [fakeProvider('p')],
      plugins: [
        {
          name: 'streamer',
          setup: (h) =>
            h.useCall(async () => {
              const { responseAsStream } = await import('./reply.js');
              return responseAsStream(completion('from stream'));
            }),
        },
      ],
    });
    const res = await gw.complete(req());
    expect(res.choices[0]?.message.content).toBe('from stream');
    expect(res.usage?.total_tokens).toBe(7);
  });
});

describe('gateway.stream', () => {
  it('passes chunks through and assembles the final response with usage', async () => {
    const gw = createGateway({ providers: [fakeProvider('p', { words: ['a', 'b', 'c'] })] });
    const s = gw.stream(req());
    const texts: string[] = [];
    for await (const c of s) texts.push(c.choices[0]?.delta.content ?? '');
    expect(texts.join('')).toBe('abc');
    const res = await s.response;
    expect(res.choices[0]?.message.content).toBe('abc');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage?.completion_tokens).toBe(3);
    expect(res.flowgate.provider).toBe('p');
  });

  it('hands each chunk on before the provider produced the next one', async () => {
    let release: (() => void) | undefined;
    let produced = 0;
    const gate = () =>
      new Promise<void>((r) => {
        release = () => {
          produced++;
          r();
        };
      });
    const gw = createGateway({ providers: [fakeProvider('p', { words: ['a', 'b'], gate })] });
    const it = gw.stream(req())[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value.choices[0].delta.role).toBe('assistant');
    const second = it.next(); // the provider now waits at the gate for its next word
    await new Promise((r) => setImmediate(r));
    expect(produced).toBe(0);
    release!();
    expect((await second).value.choices[0].delta.content).toBe('a');
    await it.return?.();
  });

  it('closes the upstream source when the reader stops early', async () => {
    const p = fakeProvider('p', { words: ['a', 'b', 'c', 'd'] });
    const gw = createGateway({ providers: [p] });
    const s = gw.stream(req());
    for await (const c of s) if (c.choices[0]?.delta.content === 'b') break;
    expect(p.streamClosed).toBe(1);
    await expect(s.response).rejects.toBeInstanceOf(AbortError);
  });

  it('replays a whole reply as chunks for a streaming caller', async () => {
    const gw = createGateway({
      providers: [fakeProvider('p')],
      plugins: [{ name: 'c', setup: (h) => h.useCall(async () => responseReply(completion('cached'))) }],
    });
    const s = gw.stream(req());
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('cached');
    expect((await s.response).usage?.total_tokens).toBe(7);
  });

  it('surfaces an invalid request on the first read and on response', async () => {
    const gw = createGateway({ providers: [fakeProvider('p')] });
    const s = gw.stream({ model: 'm', messages: [] });
    await expect(s.response).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(s[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('aborts a running stream when the caller signal fires', async () => {
    const ac = new AbortController();
    let release!: () => void;
    const gate = () => new Promise<void>((r) => (release = r));
    const gw = createGateway({ providers: [fakeProvider('p', { words: ['a', 'b'], gate })] });
    const s = gw.stream(req(), { signal: ac.signal });
    const it = s[Symbol.asyncIterator]();
    await it.next();
    const next = it.next(); // the provider waits at the gate
    await new Promise((r) => setImmediate(r));
    ac.abort();
    release();
    await expect(next).rejects.toBeInstanceOf(AbortError);
    await expect(s.response).rejects.toBeInstanceOf(AbortError);
  });
});

describe('gateway lifecycle', () => {
  it('closes plugins in reverse order, once, and refuses calls after', async () => {
    const log: string[] = [];
    const plugin = (name: string): Plugin => ({ name, setup: (h) => h.onClose(() => void log.push(name)) });
    const gw = createGateway({ providers: [fakeProvider('p')], plugins: [plugin('a'), plugin('b'), plugin('c')] });
    await Promise.all([gw.close(), gw.close()]);
    await gw.close();
    expect(log).toEqual(['c', 'b', 'a']);
    await expect(gw.complete(req())).rejects.toMatchObject({ code: ErrorCode.CLOSED });
  });

  it('makes calls wait for plugin start-up work', async () => {
    let started = false;
    const slow: Plugin = {
      name: 'warm',
      async setup() {
        await new Promise((r) => setTimeout(r, 10));
        started = true;
      },
    };
    const p = fakeProvider('p');
    p.send = async (ctx) => {
      expect(started).toBe(true);
      return responseReply(completion('ok', ctx.targetRequest.model));
    };
    const gw = createGateway({ providers: [p], plugins: [slow] });
    await gw.complete(req());
    await gw.ready();
  });
});

describe('gateway telemetry', () => {
  const find = (metrics: MetricData[], name: string) => metrics.find((m) => m.descriptor.name === name);

  it('emits a CLIENT call span with GenAI attributes and a child span per attempt', async () => {
    const t = telemetry();
    const down = fakeProvider('down', { fail: () => new UpstreamServerError('503', { status: 503 }) });
    const up = fakeProvider('up');
    const gw = createGateway({
      providers: [down, up],
      tracerProvider: t.tracerProvider,
      plugins: [
        {
          name: 'r',
          setup: (h) =>
            h.setRouter({
              name: 'r',
              plan: () => [
                { provider: down, model: 'm' },
                { provider: up, model: 'm' },
              ],
            }),
        },
      ],
    });
    await gw.complete({ ...req('m'), max_tokens: 10, temperature: 0.5 });
    const spans = await t.spans();
    const call = spans.find((s) => s.name === 'chat m')!;
    expect(call.kind).toBe(2); // SpanKind.CLIENT
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'm',
      'gen_ai.request.max_tokens': 10,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.provider.name': 'fake',
      'gen_ai.response.model': 'm',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': 'fake.local',
      'server.port': 443,
    });
    const attempts = spans.filter((s) => s.name.startsWith('attempt '));
    expect(attempts.map((s) => [s.name, s.attributes['flowgate.attempt'], s.attributes['error.type']])).toEqual([
      ['attempt down', 1, ErrorCode.UPSTREAM_SERVER],
      ['attempt up', 2, undefined],
    ]);
    for (const a of attempts) expect(a.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
  });

  it('records error.type on a failed call span', async () => {
    const t = telemetry();
    const gw = createGateway({
      providers: [fakeProvider('p', { fail: () => new UpstreamServerError('x', { status: 500 }) })],
      tracerProvider: t.tracerProvider,
    });
    await gw.complete(req()).catch(() => {});
    const call = (await t.spans()).find((s) => s.name === 'chat m')!;
    expect(call.attributes['error.type']).toBe(ErrorCode.UPSTREAM_SERVER);
    expect(call.status.code).toBe(2); // SpanStatusCode.ERROR
  });

  it('records duration, token usage, time to first chunk and requests with the spec buckets', async () => {
    const t = telemetry();
    const gw = createGateway({ providers: [fakeProvider('p')], meterProvider: t.meterProvider });
    await gw.complete(req());
    for await (const _ of gw.stream(req())) {
      // read to the end
    }
    const metrics = (await t.metrics()).scopeMetrics.flatMap((s) => s.metrics);
    const duration = find(metrics, 'gen_ai.client.operation.duration') as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.dataPoints[0]?.value.buckets.boundaries).toEqual([
      0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]);
    expect(duration.dataPoints[0]?.value.count).toBe(2);
    expect(duration.dataPoints[0]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'fake',
      'gen_ai.request.model': 'm',
    });
    const tokens = find(metrics, 'gen_ai.client.token.usage') as HistogramMetricData;
    const byType = Object.fromEntries(tokens.dataPoints.map((d) => [d.attributes['gen_ai.token.type'], d.value.sum]));
    expect(byType).toEqual({ input: 10, output: 4 });
    const ttfc = find(metrics, 'gen_ai.client.operation.time_to_first_chunk') as HistogramMetricData;
    expect(ttfc.dataPoints[0]?.value.count).toBe(1);
    expect(ttfc.dataPoints[0]?.value.buckets.boundaries[0]).toBe(0.001);
    const requests = find(metrics, 'flowgate.requests');
    expect(requests?.dataPoints.map((d) => [d.attributes['flowgate.outcome'], d.value])).toEqual([['ok', 2]]);
  });

  it('keeps per-operation and per-provider stats', async () => {
    const gw = createGateway({
      providers: [
        fakeProvider('a', { models: ['x'] }),
        fakeProvider('b', { fail: () => new UpstreamServerError('x') }),
      ],
    });
    for (let i = 0; i < 3; i++) await gw.complete(req('x'));
    await gw.complete(req('y')).catch(() => {});
    for await (const _ of gw.stream(req('x'))) {
      // read to the end
    }
    const s = gw.stats();
    expect(s.operations.chat?.count).toBe(5);
    expect(s.operations.chat?.errors).toBe(1);
    expect(s.providers.a?.count).toBe(4);
    expect(s.providers.a?.timeToFirstChunkMs.count).toBe(1);
    expect(s.providers.b?.errorRate).toBe(1);
    expect(s.operations.chat?.latencyMs.p99).toBeGreaterThan(0);
  });
});

describe('chunk helper', () => {
  it('builds chunks', () => {
    expect(chunk('m', { content: 'x' }).object).toBe('chat.completion.chunk');
  });
});
