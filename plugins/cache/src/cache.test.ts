/**
 * The cache plugin through a real gateway, over HTTP to the mock provider.
 */
import {
  ConfigError,
  ErrorCode,
  FlowgateError,
  InvalidRequestError,
  type Plugin,
  StreamTruncatedError,
} from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { INVALID_SPAN_CONTEXT, type Tracer, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { cache } from './cache.js';
import { ask, chunkShape, counterBy, Gateways, metricNames, streamCall } from './cache.test-util.js';
import { CacheErrorCode, InvalidCachePatternError } from './errors.js';
import { entry } from './store-conformance.test-suite.js';
import { memoryStore } from './stores/memory.js';
import type { CacheEntry, CacheStore } from './types.js';

let mock: MockProvider;
const gateways = new Gateways(() => mock);
beforeAll(async () => {
  mock = await startMockProvider();
});
afterEach(async () => {
  await gateways.closeAll();
  mock.reset();
});
afterAll(() => mock.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Background writes land a few ticks after the call returns: wait for a condition (bounded). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await sleep(5);
  expect(cond()).toBe(true);
}

/** An inner plugin (installed after the cache) that rewrites every upstream answer's finish reason. */
function contentFilter(): Plugin {
  return {
    name: 'content-filter',
    setup(host) {
      host.useCall(async (_ctx, next) => {
        const reply = await next();
        if (reply.type === 'response') {
          for (const c of reply.response.choices) c.finish_reason = 'content_filter';
        }
        return reply;
      });
    },
  };
}

describe('hits and misses', () => {
  it('answers a repeated question from the cache, saying so and how old the answer is', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    const first = await gw.complete(ask('What is the capital of France?'));
    const second = await gw.complete(ask('What is the capital of France?'));
    expect(mock.stats().requests).toBe(1);
    expect(first.flowgate.cache).toMatchObject({ hit: false, result: 'miss', store: 'memory', kind: 'factual' });
    expect(second.flowgate.cache).toMatchObject({ hit: true, result: 'hit', store: 'memory', kind: 'factual' });
    expect(second.flowgate.cache?.ageMs).toBeGreaterThanOrEqual(0);
    expect(second.flowgate.cache?.key).toBe(first.flowgate.cache?.key);
    expect(second.flowgate.cache?.ttlMs).toBe(24 * 3_600_000);
    expect(second.choices).toEqual(first.choices);
    expect(second.usage).toEqual(first.usage);
    expect(second.flowgate.attempts).toEqual([]);
    await until(() => c.stats().stores === 1);
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, stores: 1, hitRate: 0.5, callsSaved: 1, entries: 1 });
    expect(c.stats().tokensSaved).toEqual({
      input: first.usage!.prompt_tokens,
      output: first.usage!.completion_tokens,
    });
  });

  it('does not store an answer that no provider produced (an inner cache answered it)', async () => {
    const c = cache();
    const inner: Plugin = {
      name: 'inner-cache',
      setup: (host) =>
        host.useCall(async () => ({
          type: 'response',
          response: {
            id: 'x',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: 'from elsewhere' }, finish_reason: 'stop' }],
          },
        })),
    };
    const gw = gateways.create([c, inner]);
    const res = await gw.complete(ask('Where is the Louvre?'));
    expect(res.choices[0]?.message.content).toBe('from elsewhere');
    expect(res.flowgate.cache?.result).toBe('miss');
    await sleep(20);
    expect(c.stats().stores).toBe(0);
    expect(mock.stats().requests).toBe(0);
  });

  it('replays a hit for a streaming caller as chunks of the same shapes, usage included', async () => {
    const gw = gateways.create([cache()]);
    const q = ask('Explain how keep alive connections work');
    const miss = await streamCall(gw, q);
    const hit = await streamCall(gw, q);
    expect(mock.stats()).toMatchObject({ requests: 1, streamsStarted: 1 });
    expect(miss.response.flowgate.cache?.result).toBe('miss');
    expect(hit.response.flowgate.cache?.result).toBe('hit');
    expect(hit.text).toBe(miss.text);
    const missShapes = new Set(miss.chunks.map(chunkShape));
    for (const c of hit.chunks) expect(missShapes).toContain(chunkShape(c));
    // role chunk first, usage chunk last, exactly as upstream
    expect(chunkShape(hit.chunks[0]!)).toBe(chunkShape(miss.chunks[0]!));
    expect(chunkShape(hit.chunks.at(-1)!)).toBe(chunkShape(miss.chunks.at(-1)!));
    expect(hit.chunks.at(-1)?.usage).toEqual(miss.chunks.at(-1)?.usage);
    expect(hit.chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    const { flowgate: _a, ...missAnswer } = miss.response;
    const { flowgate: _b, ...hitAnswer } = hit.response;
    expect(hitAnswer).toEqual(missAnswer);
  });

  it('shares entries between whole and streamed calls', async () => {
    const gw = gateways.create([cache()]);
    const whole = await gw.complete(ask('Define latency'));
    const streamed = await streamCall(gw, ask('Define latency'));
    expect(streamed.response.flowgate.cache?.hit).toBe(true);
    expect(streamed.text).toBe(whole.choices[0]?.message.content);
    const streamedFirst = await streamCall(gw, ask('Define throughput'));
    const wholeSecond = await gw.complete(ask('Define throughput'));
    expect(wholeSecond.flowgate.cache?.hit).toBe(true);
    expect(wholeSecond.choices[0]?.message.content).toBe(streamedFirst.text);
    expect(mock.stats().requests).toBe(2);
  });

  it('passes a streamed miss through as it arrives (the first chunk before the last is sent)', async () => {
    mock.configure('slow', { tokensPerSecond: 25, text: 'one two three four five six seven eight nine ten' });
    const gw = gateways.create([cache()]);
    const stream = gw.stream(ask('count please', { model: 'slow' }));
    const it = stream[Symbol.asyncIterator]();
    let first = await it.next();
    while (!first.done && !first.value.choices[0]?.delta.content) first = await it.next();
    expect(first.done).toBe(false);
    expect(mock.stats().streamsCompleted).toBe(0);
    while (!(await it.next()).done) {
      // read to the end
    }
    expect((await gw.complete(ask('count please', { model: 'slow' }))).flowgate.cache?.hit).toBe(true);
  });

  it('gives every caller its own copy: changing a returned answer does not change the cache', async () => {
    const gw = gateways.create([cache()]);
    const first = await gw.complete(ask('What is TCP?'));
    const original = first.choices[0]!.message.content;
    first.choices[0]!.message.content = 'tampered';
    const second = await gw.complete(ask('What is TCP?'));
    expect(second.choices[0]?.message.content).toBe(original);
    second.choices[0]!.message.content = 'tampered again';
    expect((await gw.complete(ask('What is TCP?'))).choices[0]?.message.content).toBe(original);
  });
});

describe('what is never stored', () => {
  it('an upstream error', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    mock.script('gpt-4o-mini', [{ type: 'status', status: 500 }]);
    await expect(gw.complete(ask('What is DNS?'))).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_SERVER });
    const ok = await gw.complete(ask('What is DNS?'));
    expect(ok.flowgate.cache?.result).toBe('miss');
    expect(mock.stats().requests).toBe(2);
    await until(() => c.stats().stores === 1);
  });

  it('a truncated stream', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    mock.script('gpt-4o-mini', [{ type: 'truncate', afterChunks: 3 }]);
    await expect(streamCall(gw, ask('What is HTTP/2?'))).rejects.toBeInstanceOf(StreamTruncatedError);
    expect(c.stats().stores).toBe(0);
    const again = await streamCall(gw, ask('What is HTTP/2?'));
    expect(again.response.flowgate.cache?.result).toBe('miss');
    expect(mock.stats().requests).toBe(2);
  });

  it('a stream the reader abandoned', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    const stream = gw.stream(ask('Explain congestion control in detail please'));
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    await expect(stream.response).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(c.stats().stores).toBe(0);
    const again = await gw.complete(ask('Explain congestion control in detail please'));
    expect(again.flowgate.cache?.result).toBe('miss');
    expect(mock.stats().requests).toBe(2);
  });

  it('a content-filtered answer', async () => {
    const c = cache();
    const gw = gateways.create([c, contentFilter()]);
    await gw.complete(ask('What is a firewall?'));
    const again = await gw.complete(ask('What is a firewall?'));
    expect(again.flowgate.cache?.result).toBe('miss');
    expect(mock.stats().requests).toBe(2);
    expect(c.stats().stores).toBe(0);
  });
});

describe('single-flight', () => {
  it('100 concurrent identical requests make exactly one upstream call', async () => {
    mock.configure('sf-100', { latencyMs: 30 });
    const c = cache();
    const gw = gateways.create([c]);
    const q = ask('What is a mutex?', { model: 'sf-100' });
    const answers = await Promise.all(Array.from({ length: 100 }, () => gw.complete(q)));
    expect(mock.stats().requests).toBe(1);
    const texts = new Set(answers.map((a) => a.choices[0]?.message.content));
    expect(texts.size).toBe(1);
    expect(answers.filter((a) => a.flowgate.cache?.result === 'coalesced')).toHaveLength(99);
    // Each caller got its own copy: nothing is shared between answers.
    expect(new Set(answers.map((a) => a.choices[0]?.message)).size).toBe(100);
    await until(() => c.stats().stores === 1);
    expect(c.stats()).toMatchObject({ misses: 1, coalesced: 99, hits: 0, stores: 1, callsSaved: 99 });
  });

  it('coalesces streamed and whole callers alike', async () => {
    mock.configure('sf-mixed', { latencyMs: 30 });
    const gw = gateways.create([cache()]);
    const q = ask('What is a semaphore?', { model: 'sf-mixed' });
    const calls = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? gw.complete(q).then((r) => r.choices[0]?.message.content) : streamCall(gw, q).then((r) => r.text),
    );
    const texts = await Promise.all(calls);
    expect(new Set(texts).size).toBe(1);
    expect(mock.stats().requests).toBe(1);
  });

  it('when the leader fails, each waiting call proceeds on its own', async () => {
    mock.configure('sf-fail', { latencyMs: 20 });
    mock.script('sf-fail', [{ type: 'status', status: 503 }]);
    const c = cache();
    const gw = gateways.create([c]);
    const q = ask('What is a lock?', { model: 'sf-fail' });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => gw.complete(q)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(mock.stats().requests).toBe(5);
    expect(c.stats().coalesced).toBe(0);
  });

  it('a follower waits at most maxWaitMs for a leader that never answers', async () => {
    mock.configure('stuck', { text: 'finally' });
    mock.script('stuck', [{ type: 'hang' }]);
    const gw = gateways.create([cache({ singleFlight: { maxWaitMs: 100 } })]);
    const caller = new AbortController();
    const leader = gw.complete(ask('What is a deadlock?', { model: 'stuck' }), { signal: caller.signal });
    leader.catch(() => {});
    // The leader hangs until aborted below: the follower can only get here through its bounded wait.
    const follower = await gw.complete(ask('What is a deadlock?', { model: 'stuck' }));
    expect(follower.choices[0]?.message.content).toBe('finally');
    expect(follower.flowgate.cache?.result).toBe('miss');
    expect(mock.stats().requests).toBe(2);
    caller.abort();
    await expect(leader).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });

  it('never coalesces across tenants', async () => {
    mock.configure('sf-tenants', { latencyMs: 20 });
    const gw = gateways.create([cache()]);
    await Promise.all(
      ['a', 'b', 'a', 'b', 'c'].map((tenant) =>
        gw.complete(ask('What is a queue?', { model: 'sf-tenants' }), { metadata: { tenant } }),
      ),
    );
    expect(mock.stats().requests).toBe(3);
  });
});

describe('policy', () => {
  it('smart mode skips explicit temperature > 0 unless told to cache it; absent temperature is cached', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    const warm = ask('What is entropy?', { temperature: 0.8 });
    expect((await gw.complete(warm)).flowgate.cache).toMatchObject({ result: 'skip', reason: 'non-deterministic' });
    expect((await gw.complete(warm)).flowgate.cache?.result).toBe('skip');
    expect(mock.stats().requests).toBe(2);
    await gw.complete(ask('What is entropy?', { temperature: 0 }));
    expect((await gw.complete(ask('What is entropy?', { temperature: 0 }))).flowgate.cache?.hit).toBe(true);
    await gw.complete(ask('What is enthalpy?'));
    expect((await gw.complete(ask('What is enthalpy?'))).flowgate.cache?.hit).toBe(true);

    const lenient = gateways.create([cache({ cacheNonDeterministic: true })]);
    await lenient.complete(warm);
    expect((await lenient.complete(warm)).flowgate.cache?.hit).toBe(true);
  });

  it('smart mode skips personal information, time references and live-data tools', async () => {
    const gw = gateways.create([cache()]);
    const reasons = async (content: string, extra = {}) =>
      (await gw.complete(ask(content, extra))).flowgate.cache?.reason;
    expect(await reasons('My email is jane.doe@example.com, can you reply?')).toBe('personal-info');
    expect(await reasons('Call me at +33 6 12 34 56 78')).toBe('personal-info');
    expect(await reasons('Why was card 4111 1111 1111 1111 declined?')).toBe('personal-info');
    expect(await reasons('What is the status of my account?')).toBe('personal-info');
    expect(await reasons('What is the weather in Paris today?')).toBe('time-reference');
    expect(await reasons("What's the latest version of Node?")).toBe('time-reference');
    expect(await reasons('What happened on 2026-11-28?')).toBe('time-reference');
    const tool = (name: string) => ({ tools: [{ type: 'function' as const, function: { name } }] });
    expect(await reasons('Paris?', tool('get_current_weather'))).toBe('live-tool');
    expect(await reasons('Paris?', tool('searchDocs'))).toBe('live-tool');
    expect(await reasons('Paris?', tool('stock_price'))).toBe('live-tool');
    expect(await reasons('Paris?', tool('format_address'))).toBeUndefined();
  });

  it('always mode caches what smart mode skips; never mode caches nothing', async () => {
    const always = gateways.create([cache({ mode: 'always', name: 'always' })]);
    await always.complete(ask('What is the weather in Paris today?'));
    expect((await always.complete(ask('What is the weather in Paris today?'))).flowgate.cache?.hit).toBe(true);
    const never = gateways.create([cache({ mode: 'never' })]);
    await never.complete(ask('What is DNS?'));
    expect((await never.complete(ask('What is DNS?'))).flowgate.cache).toMatchObject({
      result: 'skip',
      reason: 'mode-never',
    });
    expect(mock.stats().requests).toBe(3);
  });

  it('a call can override the mode, the TTL, and force a refresh', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    await gw.complete(ask('What is BGP?'), { cache: { mode: 'never' } });
    expect((await gw.complete(ask('What is BGP?'))).flowgate.cache?.result).toBe('miss');
    expect((await gw.complete(ask('What is BGP?'), { cache: { mode: 'never' } })).flowgate.cache?.result).toBe('skip');
    expect((await gw.complete(ask('What is BGP?'))).flowgate.cache?.result).toBe('hit');

    const today = ask('What is on today?');
    await gw.complete(today, { cache: { mode: 'always' } });
    expect((await gw.complete(today, { cache: { mode: 'always' } })).flowgate.cache?.hit).toBe(true);

    const short = await gw.complete(ask('What is OSPF?'), { cache: { ttlMs: 40 } });
    expect(short.flowgate.cache?.ttlMs).toBe(40);
    await sleep(120);
    expect((await gw.complete(ask('What is OSPF?'))).flowgate.cache?.result).toBe('miss');

    mock.configure('refresh', { text: 'old answer' });
    await gw.complete(ask('What is RIP?', { model: 'refresh' }));
    mock.configure('refresh', { text: 'new answer' });
    expect((await gw.complete(ask('What is RIP?', { model: 'refresh' }))).choices[0]?.message.content).toBe(
      'old answer',
    );
    const refreshed = await gw.complete(ask('What is RIP?', { model: 'refresh' }), { cache: { refresh: true } });
    expect(refreshed.flowgate.cache?.result).toBe('miss');
    expect(refreshed.choices[0]?.message.content).toBe('new answer');
    const after = await gw.complete(ask('What is RIP?', { model: 'refresh' }));
    expect(after.flowgate.cache?.hit).toBe(true);
    expect(after.choices[0]?.message.content).toBe('new answer');
  });

  it('TTL by kind: current information, support, factual, default', async () => {
    const gw = gateways.create([cache()]);
    const ttl = async (q: string) => (await gw.complete(ask(q))).flowgate.cache;
    expect(await ttl("What's the weather in Paris?")).toMatchObject({ kind: 'current', ttlMs: 5 * 60_000 });
    expect(await ttl('The app shows an error when I upload a file')).toMatchObject({
      kind: 'support',
      ttlMs: 3_600_000,
    });
    expect(await ttl('Explain the CAP theorem')).toMatchObject({ kind: 'factual', ttlMs: 86_400_000 });
    expect(await ttl('Write a haiku about latency')).toMatchObject({ kind: 'default', ttlMs: 4 * 3_600_000 });
    const custom = gateways.create([cache({ name: 'custom', ttlByKind: { factual: 1000 } })]);
    expect((await custom.complete(ask('Explain the CAP theorem'))).flowgate.cache?.ttlMs).toBe(1000);
  });

  it('normalizes case, whitespace, punctuation and contractions in smart mode only', async () => {
    const smart = gateways.create([cache()]);
    await smart.complete(ask("What's the weather in Paris?"));
    for (const q of [
      'what is the weather in paris',
      "  WHAT'S  the weather in Paris ?! ",
      'What’s the weather in Paris.',
    ]) {
      expect((await smart.complete(ask(q))).flowgate.cache?.hit, q).toBe(true);
    }
    expect(mock.stats().requests).toBe(1);
    const exact = gateways.create([cache({ mode: 'always', name: 'exact' })]);
    await exact.complete(ask("What's the weather in Paris?"));
    expect((await exact.complete(ask('what is the weather in paris'))).flowgate.cache?.hit).toBe(false);
  });

  it('replaces dates in system prompts so that an injected "today" does not defeat the cache', async () => {
    const gw = gateways.create([cache()]);
    const withDate = (date: string) => ({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system' as const, content: `You are helpful. Today is ${date}, 10:31.` },
        { role: 'user' as const, content: 'What is the speed of light?' },
      ],
    });
    await gw.complete(withDate('2026-11-27'));
    expect((await gw.complete(withDate('2026-11-28'))).flowgate.cache?.hit).toBe(true);
  });

  it('personalized requests are skipped by smart mode, else cached per user, never without a user', async () => {
    const smart = gateways.create([cache()]);
    const q = ask('Recommend a book for me');
    expect(
      (await smart.complete(q, { metadata: { user: 'u1' }, cache: { personalized: true } })).flowgate.cache?.reason,
    ).toBe('personalized');
    expect(
      (await smart.complete(q, { metadata: { user: 'u1', tags: { personalized: 'true' } } })).flowgate.cache?.reason,
    ).toBe('personalized');

    const perUser = gateways.create([cache({ cachePersonalized: true, name: 'per-user' })]);
    const as = (user: string | undefined) =>
      perUser.complete(q, { metadata: { tenant: 'acme', user }, cache: { personalized: true } });
    const u1 = await as('u1');
    expect(u1.flowgate.cache?.key).toMatch(/^v1:t\.acme:u\.u1:/);
    expect((await as('u1')).flowgate.cache?.hit).toBe(true);
    expect((await as('u2')).flowgate.cache?.hit).toBe(false);
    expect((await as(undefined)).flowgate.cache?.reason).toBe('personalized-without-user');
    // Not personalized: shared by the tenant's users.
    await perUser.complete(ask('What is Rust?'), { metadata: { tenant: 'acme', user: 'u1' } });
    expect(
      (await perUser.complete(ask('What is Rust?'), { metadata: { tenant: 'acme', user: 'u2' } })).flowgate.cache?.hit,
    ).toBe(true);
  });

  it('context keying: time-sensitive questions are cached per time bucket, answers per locale', async () => {
    let now = Date.parse('2026-11-28T08:15:00Z');
    const c = cache({ keying: 'context', clock: () => now });
    const gw = gateways.create([c]);
    const q = ask('What is the weather in Paris today?');
    const first = await gw.complete(q);
    expect(first.flowgate.cache).toMatchObject({ result: 'miss', kind: 'current', ttlMs: 5 * 60_000 });
    expect(c.keyFor(q)).toBe(first.flowgate.cache?.key);
    now = Date.parse('2026-11-28T11:59:00Z'); // still the morning
    expect((await gw.complete(q)).flowgate.cache?.hit).toBe(true);
    now = Date.parse('2026-11-28T12:01:00Z'); // the afternoon: a new bucket
    expect((await gw.complete(q)).flowgate.cache?.hit).toBe(false);
    // Not time-sensitive: the bucket does not matter, the locale does.
    const capital = ask('What is the capital of Australia?');
    await gw.complete(capital, { metadata: { tags: { locale: 'en-US' } } });
    now = Date.parse('2026-11-29T20:00:00Z');
    expect((await gw.complete(capital, { metadata: { tags: { locale: 'en-US' } } })).flowgate.cache?.hit).toBe(true);
    expect((await gw.complete(capital, { metadata: { tags: { locale: 'fr-FR' } } })).flowgate.cache?.hit).toBe(false);
  });

  it('rejects bad per-call options and bad configuration with typed errors', async () => {
    const gw = gateways.create([cache()]);
    await expect(gw.complete(ask('x'), { cache: { mode: 'sometimes' as never } })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    await expect(gw.complete(ask('x'), { cache: { ttlMs: -1 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
      field: 'options.cache.ttlMs',
    });
    expect(mock.stats().requests).toBe(0);
    expect(() => cache({ mode: 'maybe' as never })).toThrow(ConfigError);
    expect(() => cache({ keying: 'fuzzy' as never })).toThrow(ConfigError);
    expect(() => cache({ ttlMs: 0 })).toThrow(ConfigError);
    expect(() => cache({ ttlByKind: { factual: -5 } })).toThrow(ConfigError);
    expect(() => cache({ timeZone: 'Mars/Olympus_Mons' })).toThrow(ConfigError);
    expect(() => cache({ rules: { personalInfo: ['email'] as never } })).toThrow(ConfigError);
    expect(() => cache({ singleFlight: { maxWaitMs: 0 } })).toThrow(ConfigError);
    expect(() => cache({ store: {} as never })).toThrow(ConfigError);
  });
});

describe('a failing store never fails a call', () => {
  function brokenStore(get: () => Promise<CacheEntry | undefined>): CacheStore & { gets: number; sets: number } {
    const s = {
      name: 'broken',
      local: false,
      gets: 0,
      sets: 0,
      get: () => {
        s.gets++;
        return get();
      },
      set: async () => {
        s.sets++;
        throw new Error('write refused');
      },
      delete: async () => false,
      deleteMatching: async () => 0,
      clear: async () => {},
      close: async () => {},
    };
    return s;
  }

  it('a store that hangs: the lookup times out, the call goes on as a miss', async () => {
    const store = brokenStore(() => new Promise(() => {}));
    const c = cache({ store, storeTimeoutMs: 30 });
    const gw = gateways.create([c]);
    const res = await gw.complete(ask('What is a socket?'));
    expect(res.choices[0]?.message.content).toBeTruthy();
    expect(res.flowgate.cache).toMatchObject({ result: 'miss', storeError: CacheErrorCode.STORE_TIMEOUT });
    expect(c.stats().errors).toBeGreaterThanOrEqual(1);
  });

  it('a store that throws: counted, and after repeated failures skipped for a cool-down', async () => {
    const store = brokenStore(async () => {
      throw new Error('connection reset');
    });
    const t = telemetry();
    const c = cache({ store, breaker: { failures: 2, cooldownMs: 60_000 } });
    const gw = gateways.create([c], { meterProvider: t.meterProvider });
    await gw.complete(ask('What is port 0?'));
    // The write is in the background: wait until its failure is counted.
    for (let i = 0; i < 200 && c.stats().errors < 2; i++) await sleep(5);
    for (let i = 1; i < 5; i++) await gw.complete(ask(`What is port ${i}?`));
    // get, set (2 failures: circuit opens); later calls do not touch the store.
    expect(store.gets).toBe(1);
    expect(store.sets).toBe(1);
    expect(c.stats()).toMatchObject({ misses: 5, errors: 2, stores: 0 });
    const res = await gw.complete(ask('What is port 9?'));
    expect(res.flowgate.cache?.storeError).toBe(CacheErrorCode.STORE_UNAVAILABLE);
    const errors = counterBy(await t.metrics(), 'flowgate.cache.errors', 'flowgate.cache.operation');
    expect(errors).toEqual({ get: 1, set: 1 });
  });

  it('invalidation errors do reject, with a typed error', async () => {
    const store = brokenStore(async () => undefined);
    store.deleteMatching = async () => {
      throw new Error('backend down');
    };
    const c = cache({ store });
    await expect(c.invalidateTags({ tenant: 'a' })).rejects.toMatchObject({ code: CacheErrorCode.STORE });
    await expect(c.invalidateMatching('v1:[x]*')).rejects.toBeInstanceOf(InvalidCachePatternError);
  });
});

describe('invalidation', () => {
  it('by key, by tenant, by model, by prompt tag, by pattern, and clear', async () => {
    const c = cache();
    const gw = gateways.create([c]);
    const run = (q: string, tenant?: string, model = 'gpt-4o-mini', prompt?: string) =>
      gw.complete(ask(q, { model }), { metadata: { tenant, tags: prompt ? { prompt } : undefined } });
    const keys = [
      (await run('What is A?', 'acme')).flowgate.cache!.key!,
      (await run('What is B?', 'acme', 'gpt-4o')).flowgate.cache!.key!,
      (await run('What is A?', 'globex')).flowgate.cache!.key!,
      (await run('What is C?', undefined, 'gpt-4o-mini', 'faq-v2')).flowgate.cache!.key!,
      (await run('What is D?', 'globex', 'gpt-4o-mini', 'faq-v2')).flowgate.cache!.key!,
    ];
    expect(c.stats().entries).toBe(5);
    expect(await c.invalidate(keys[0]!)).toBe(true);
    expect((await run('What is A?', 'acme')).flowgate.cache?.hit).toBe(false); // re-stored
    expect(await c.invalidateTags({ tenant: 'acme' })).toBe(2);
    expect(await c.invalidateTags({ promptTag: 'faq-v2' })).toBe(2);
    expect(await c.invalidateTags({ model: 'gpt-4o-mini', tenant: 'globex' })).toBe(1);
    expect(c.stats().entries).toBe(0);
    await run('What is A?', 'acme');
    await run('What is A?');
    expect(await c.invalidateTags({ tenant: null })).toBe(1);
    expect(await c.invalidateMatching('v1:t.acme:*')).toBe(1);
    await run('What is E?', 'acme');
    await c.clear();
    expect(c.stats().entries).toBe(0);
    expect((await run('What is E?', 'acme')).flowgate.cache?.hit).toBe(false);
  });

  it('keyFor gives the key a call would use, or undefined when the policy skips it', () => {
    const c = cache();
    expect(c.keyFor(ask('What is a CPU?'), { metadata: { tenant: 'ac:me*' } })).toMatch(
      /^v1:t\.ac%003Ame%002A:-:gpt-4o-mini:-:[A-Za-z0-9_-]{43}$/,
    );
    expect(c.keyFor(ask('my email is a@b.co'))).toBeUndefined();
  });
});

describe('telemetry', () => {
  it('a `cache lookup` child span, hit/miss attributes on the call span, and the cache metrics', async () => {
    const t = telemetry();
    const gw = gateways.create([cache()], { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    await gw.complete(ask('What is a span?'));
    await gw.complete(ask('What is a span?'));
    await gw.complete(ask('What is a span?', { temperature: 1 }));
    const spans = await t.spans();
    const calls = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    const lookups = spans.filter((s) => s.name === 'cache lookup');
    expect(calls.map((s) => s.attributes['flowgate.cache.result'])).toEqual(['miss', 'hit', 'skip']);
    expect(calls.map((s) => s.attributes['flowgate.cache.hit'])).toEqual([false, true, false]);
    expect(calls[2]?.attributes['flowgate.cache.reason']).toBe('non-deterministic');
    expect(lookups.map((s) => s.attributes['flowgate.cache.result'])).toEqual(['miss', 'hit']);
    expect(lookups.map((s) => s.parentSpanContext?.spanId)).toEqual(
      calls.slice(0, 2).map((s) => s.spanContext().spanId),
    );
    expect(lookups[0]?.attributes['flowgate.cache.store']).toBe('memory');

    const metrics = await t.metrics();
    expect(counterBy(metrics, 'flowgate.cache.requests', 'flowgate.cache.result')).toEqual({
      miss: 1,
      hit: 1,
      skip: 1,
    });
    expect(counterBy(metrics, 'flowgate.cache.stores', 'flowgate.cache.store')).toEqual({ memory: 1 });
    const saved = counterBy(metrics, 'flowgate.cache.tokens_saved', 'gen_ai.token.type');
    expect(saved.input).toBeGreaterThan(0);
    expect(saved.output).toBeGreaterThan(0);
    expect(counterBy(metrics, 'flowgate.cache.entries', 'flowgate.cache.store')).toEqual({ memory: 1 });
    expect(metricNames(metrics)).toEqual(
      expect.arrayContaining(['flowgate.cache.lookup.duration', 'flowgate.cache.bytes', 'flowgate.cache.evictions']),
    );
  });

  it('no lookup span when the call span does not record', async () => {
    const started: string[] = [];
    const tracer = {
      startSpan(name: string) {
        started.push(name);
        return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
      },
      startActiveSpan() {
        throw new Error('not used');
      },
    } as unknown as Tracer;
    const gw = gateways.create([cache()], { tracerProvider: { getTracer: () => tracer } });
    await gw.complete(ask('What is a trace?'));
    await gw.complete(ask('What is a trace?'));
    expect(started).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini']);
  });
});

describe('lifecycle', () => {
  it('closes the store with the gateway, unless told to keep it open', async () => {
    const store = memoryStore();
    await store.set('k', entry('kept'), 60_000);
    let closed = 0;
    const wrapped: CacheStore = {
      name: 'memory',
      local: true,
      get: (k) => store.get(k),
      set: (k, e, ttl) => store.set(k, e, ttl),
      delete: (k) => store.delete(k),
      deleteMatching: (p) => store.deleteMatching(p),
      clear: () => store.clear(),
      close: async () => void closed++,
    };
    const gw = gateways.create([cache({ store: wrapped })]);
    await gw.close();
    expect(closed).toBe(1);
    const kept = gateways.create([cache({ store: wrapped, keepStoreOpen: true })]);
    await kept.close();
    expect(closed).toBe(1);
  });

  it('errors are FlowgateErrors with stable codes', () => {
    expect(new InvalidCachePatternError('x[', 'bad')).toBeInstanceOf(FlowgateError);
  });
});
