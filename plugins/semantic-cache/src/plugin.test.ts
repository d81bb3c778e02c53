/**
 * The semantic cache through a real gateway, behind the exact cache, over HTTP to the mock provider.
 */
import { ConfigError, ErrorCode, InvalidRequestError, type Plugin } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { cache, memoryStore } from '@flowgate/plugin-cache';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { defineEmbedder } from './embedders/custom.js';
import { localEmbedder } from './embedders/local.js';
import { semanticCache } from './plugin.js';
import {
  ask,
  counterBy,
  Gateways,
  manualClock,
  points,
  readStream,
  streamCall,
  upstream,
} from './semantic.test-util.js';
import {
  ATTR_SEMANTIC_HIT,
  ATTR_SEMANTIC_RESULT,
  ATTR_SEMANTIC_SIMILARITY,
  METRIC_SEMANTIC_INDEX_SIZE,
  METRIC_SEMANTIC_LOOKUP_DURATION,
  METRIC_SEMANTIC_REQUESTS,
  METRIC_SEMANTIC_SIMILARITY,
} from './telemetry.js';

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

const both = (options: Parameters<typeof semanticCache>[0] = {}, cacheOptions: Parameters<typeof cache>[0] = {}) => {
  const exact = cache(cacheOptions);
  const semantic = semanticCache(options);
  return { exact, semantic, plugins: [exact, semantic] as Plugin[] };
};

describe('paraphrases and near misses, end to end', () => {
  it('answers a paraphrase from the cache: one upstream request for both', async () => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    const first = await gw.complete(ask("What's the weather in Paris?"));
    expect(first.flowgate.semanticCache).toEqual({ hit: false, result: 'miss', reason: 'empty' });
    const again = await gw.complete(ask("How's the weather in Paris?"));
    expect(upstream(mock)).toBe(1);
    expect(again.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    expect(again.choices[0]!.message.content).toBe("Mock answer to: What's the weather in Paris?");
    expect(again.flowgate.semanticCache).toMatchObject({ hit: true, result: 'hit', reason: 'similar' });
    expect(again.flowgate.semanticCache!.matchedKey).toBe(first.flowgate.cache!.key);
    expect(again.flowgate.semanticCache!.similarity).toBeGreaterThanOrEqual(semantic.threshold);
    expect(again.flowgate.attempts).toEqual([]);
    expect(semantic.stats()).toMatchObject({ hits: 1, misses: 1, indexed: 1, entries: 1 });
  });

  it('sends a near miss upstream: another city is another question', async () => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    await gw.complete(ask("What's the weather in Paris?"));
    const london = await gw.complete(ask("What's the weather in London?"));
    expect(upstream(mock)).toBe(2);
    expect(london.choices[0]!.message.content).toBe("Mock answer to: What's the weather in London?");
    expect(london.flowgate.semanticCache!.hit).toBe(false);
    // The question itself is indexed: a paraphrase of it now hits, and answers about London.
    const paraphrase = await gw.complete(ask('How is the weather in London?'));
    expect(paraphrase.choices[0]!.message.content).toBe("Mock answer to: What's the weather in London?");
    expect(upstream(mock)).toBe(2);
    expect(semantic.stats().entries).toBe(2);
  });

  it('says which guard refused a similar question', async () => {
    // A low threshold, so that only the guard stands between the two questions.
    const { semantic, plugins } = both({ threshold: 0.3 });
    const gw = gateways.create(plugins);
    await gw.complete(ask('What is 15% of 200?'));
    const other = await gw.complete(ask('What is 15% of 300?'));
    expect(other.flowgate.semanticCache).toMatchObject({ hit: false, result: 'guard_rejected', reason: 'number' });
    expect(upstream(mock)).toBe(2);
    expect(semantic.stats()).toMatchObject({ guardRejected: 1, guards: { number: 1 } });
  });

  it('lets an exact hit win: the semantic layer is not even asked', async () => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    await gw.complete(ask('What is the capital of France?'));
    const again = await gw.complete(ask('What is the capital of France?'));
    expect(again.flowgate.cache!.result).toBe('hit');
    expect(again.flowgate.semanticCache).toBeUndefined();
    expect(semantic.stats()).toMatchObject({ hits: 0, misses: 1 });
  });

  it('replays a semantic hit as chunks to a streaming caller, and indexes streamed answers once read', async () => {
    const { plugins } = both();
    const gw = gateways.create(plugins);
    const first = await streamCall(gw, ask('How do I reset my router?'));
    expect(first.text).toBe('Mock answer to: How do I reset my router?');
    const again = await streamCall(gw, ask('How can I reset my router?'));
    expect(again.text).toBe(first.text);
    expect(again.response.flowgate.semanticCache!.hit).toBe(true);
    const whole = await gw.complete(ask('how do i reset the router'));
    expect(whole.choices[0]!.message.content).toBe(first.text);
    expect(upstream(mock)).toBe(1);
  });

  it('does not index a stream the reader abandoned', async () => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    const stream = gw.stream(ask('Explain congestion control in detail please'));
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
    await expect(stream.response).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(semantic.stats().indexed).toBe(0);
    const again = await gw.complete(ask('Please explain congestion control in detail'));
    expect(again.flowgate.semanticCache).toMatchObject({ hit: false, reason: 'empty' });
  });
});

describe('partitions: a hit never crosses tenants, models or system prompts', () => {
  it('keeps tenants apart', async () => {
    const { plugins } = both();
    const gw = gateways.create(plugins);
    await gw.complete(ask("What's the weather in Paris?"), { metadata: { tenant: 'acme' } });
    const other = await gw.complete(ask("How's the weather in Paris?"), { metadata: { tenant: 'globex' } });
    expect(other.flowgate.semanticCache).toMatchObject({ hit: false, reason: 'empty' });
    const same = await gw.complete(ask("How's the weather in Paris?"), { metadata: { tenant: 'acme' } });
    expect(same.flowgate.semanticCache!.hit).toBe(true);
    expect(upstream(mock)).toBe(2);
  });

  it('keeps models, system prompts, earlier turns and sampling apart', async () => {
    const { plugins } = both({ maxTurns: 3 });
    const gw = gateways.create(plugins);
    const system = (content: string) => ({ role: 'system' as const, content });
    await gw.complete({
      model: 'gpt-4o-mini',
      messages: [system('You are terse.'), { role: 'user', content: 'What is DNA?' }],
    });
    const variants = [
      {
        model: 'gpt-4o',
        messages: [system('You are terse.'), { role: 'user' as const, content: 'Explain what DNA is.' }],
      },
      {
        model: 'gpt-4o-mini',
        messages: [system('You are a pirate.'), { role: 'user' as const, content: 'Explain what DNA is.' }],
      },
      {
        model: 'gpt-4o-mini',
        messages: [
          system('You are terse.'),
          { role: 'user' as const, content: 'Talk about cats.' },
          { role: 'assistant' as const, content: 'Cats purr.' },
          { role: 'user' as const, content: 'Explain what DNA is.' },
        ],
      },
      {
        model: 'gpt-4o-mini',
        max_tokens: 5,
        messages: [system('You are terse.'), { role: 'user' as const, content: 'Explain what DNA is.' }],
      },
    ];
    for (const v of variants) {
      const res = await gw.complete(v);
      expect(res.flowgate.semanticCache!.hit).toBe(false);
    }
    const same = await gw.complete({
      model: 'gpt-4o-mini',
      messages: [system('You are terse.'), { role: 'user', content: 'Explain what DNA is.' }],
    });
    expect(same.flowgate.semanticCache!.hit).toBe(true);
    expect(upstream(mock)).toBe(1 + variants.length);
  });
});

describe('TTL and dead pointers follow the store', () => {
  it('stops answering once the answer’s TTL has passed, and forgets the entry', async () => {
    const clock = manualClock();
    const { semantic, plugins } = both({ clock: clock.now }, { clock: clock.now, ttlMs: 60_000 });
    const gw = gateways.create(plugins);
    await gw.complete(ask('What is photosynthesis?'));
    clock.advance(59_000);
    expect((await gw.complete(ask('Explain photosynthesis.'))).flowgate.semanticCache!.hit).toBe(true);
    clock.advance(2_000);
    const late = await gw.complete(ask('Can you explain photosynthesis?'));
    expect(late.flowgate.semanticCache!.hit).toBe(false);
    expect(upstream(mock)).toBe(2);
    expect(semantic.stats().removed.expired).toBeGreaterThanOrEqual(1);
  });

  it('treats an answer invalidated in the store as a dead pointer: a miss, then the entry is removed', async () => {
    const clock = manualClock();
    const { exact, semantic, plugins } = both({ clock: clock.now }, { clock: clock.now });
    const gw = gateways.create(plugins);
    const first = await gw.complete(ask('What is photosynthesis?'));
    expect(await exact.invalidate(first.flowgate.cache!.key!)).toBe(true);
    clock.advance(30_000);
    const next = await gw.complete(ask('Explain photosynthesis.'));
    expect(next.flowgate.semanticCache).toMatchObject({ hit: false, result: 'miss', reason: 'stale' });
    expect(semantic.stats().removed.dead).toBe(1);
    expect(upstream(mock)).toBe(2);
  });

  it('bounds the index by maxEntries', async () => {
    const { semantic, plugins } = both({ maxEntries: 2 });
    const gw = gateways.create(plugins);
    for (const q of ['What is DNA?', 'What is RNA?', 'Who wrote Hamlet?']) await gw.complete(ask(q));
    expect(semantic.stats()).toMatchObject({ entries: 2, removed: { evicted: 1 } });
  });
});

describe('policy: what the exact cache refuses, the semantic layer never looks up', () => {
  it.each([
    ['personal information', ask('My email is ann@example.com, what is my plan?'), 'not-cacheable'],
    ['an explicit temperature', ask('Write a poem about the sea', { temperature: 0.9 }), 'not-cacheable'],
    [
      'a tool result',
      { model: 'gpt-4o-mini', messages: [{ role: 'tool' as const, content: '42', tool_call_id: 'x' }] },
      'not-a-question',
    ],
  ])('skips %s', async (_, request, reason) => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    const res = await gw.complete(request);
    expect(res.flowgate.semanticCache).toEqual({ hit: false, result: 'skip', reason });
    expect(semantic.stats()).toMatchObject({ skips: 1, indexed: 0 });
  });

  it('skips time references even when the exact cache caches them under a time bucket', async () => {
    const { semantic, plugins } = both({}, { keying: 'context' });
    const gw = gateways.create(plugins);
    const res = await gw.complete(ask('Will it rain in Paris tomorrow?'));
    expect(res.flowgate.cache!.result).toBe('miss');
    expect(res.flowgate.semanticCache!.reason).toBe('time-reference');
    expect(semantic.stats().indexed).toBe(0);
  });

  it('skips conversations longer than maxTurns', async () => {
    const { plugins } = both({ maxTurns: 1 });
    const gw = gateways.create(plugins);
    const res = await gw.complete({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'What is DNA?' },
      ],
    });
    expect(res.flowgate.semanticCache!.reason).toBe('too-many-turns');
  });

  it('obeys the per-call option, and rejects a bad one before anything is sent', async () => {
    const { plugins } = both();
    const gw = gateways.create(plugins);
    await gw.complete(ask('What is DNA?'));
    const off = await gw.complete(ask('Explain what DNA is.'), { semanticCache: false });
    expect(off.flowgate.semanticCache!.reason).toBe('disabled');
    const strict = await gw.complete(ask('Can you explain what DNA is?'), { semanticCache: { threshold: 1 } });
    expect(strict.flowgate.semanticCache!.hit).toBe(false);
    await expect(gw.complete(ask('Explain DNA'), { semanticCache: { threshold: 2 } })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    expect(upstream(mock)).toBe(3);
  });

  it('indexes a forced refresh without looking up', async () => {
    const { semantic, plugins } = both();
    const gw = gateways.create(plugins);
    const res = await gw.complete(ask('What is DNA?'), { cache: { refresh: true } });
    expect(res.flowgate.semanticCache!.reason).toBe('refresh');
    expect(semantic.stats().indexed).toBe(1);
    expect((await gw.complete(ask('Explain what DNA is.'))).flowgate.semanticCache!.hit).toBe(true);
  });
});

describe('failures never fail a call', () => {
  it('goes on without the semantic layer when the embedder fails or hangs', async () => {
    const failing = defineEmbedder({
      id: 'failing',
      dimensions: 8,
      threshold: 0.9,
      embed: async () => {
        throw new Error('model not loaded');
      },
    });
    const hanging = defineEmbedder({
      id: 'hanging',
      dimensions: 8,
      threshold: 0.9,
      embed: () => new Promise(() => {}),
    });
    for (const embedder of [failing, hanging]) {
      const { semantic, plugins } = both({ embedder, embedTimeoutMs: 20 });
      const gw = gateways.create(plugins);
      const res = await gw.complete(ask('What is DNA?'));
      expect(res.choices[0]!.message.content).toBe('Mock answer to: What is DNA?');
      expect(res.flowgate.semanticCache!.reason).toBe('embed-error');
      expect(semantic.stats().errors).toBe(1);
    }
  });

  it('counts an embedder that returns the wrong shape as an error', async () => {
    const wrong = defineEmbedder({
      id: 'wrong',
      dimensions: 8,
      threshold: 0.9,
      embed: async () => [new Float32Array(3)],
    });
    const { semantic, plugins } = both({ embedder: wrong });
    const gw = gateways.create(plugins);
    expect((await gw.complete(ask('What is DNA?'))).flowgate.semanticCache!.reason).toBe('embed-error');
    expect(semantic.stats().errors).toBe(1);
  });

  it('goes upstream when the store fails on a candidate', async () => {
    const store = memoryStore();
    const get = store.get.bind(store);
    let calls = 0;
    let failAt = -1;
    store.get = (key) => {
      calls++;
      return calls === failAt ? Promise.reject(new Error('disk on fire')) : get(key);
    };
    const semantic = semanticCache();
    const gw = gateways.create([cache({ store }), semantic]);
    await gw.complete(ask('What is DNA?'));
    // The next call reads the store twice: the exact lookup (a miss), then the semantic candidate: that one fails.
    failAt = calls + 2;
    const res = await gw.complete(ask('Explain what DNA is.'));
    expect(calls).toBe(failAt);
    expect(res.choices[0]!.message.content).toBe('Mock answer to: Explain what DNA is.');
    expect(res.flowgate.semanticCache).toMatchObject({ hit: false, result: 'miss' });
    expect(semantic.stats().errors).toBe(1);
  });
});

describe('configuration', () => {
  it('needs the exact cache, installed before it', async () => {
    const { createGateway } = await import('@flowgate/core');
    const { openai } = await import('@flowgate/providers');
    const provider = openai({ apiKey: 'x', baseURL: `${mock.url}/v1` });
    expect(() => createGateway({ providers: [provider], plugins: [semanticCache()] })).toThrow(ConfigError);
    // Installed after it: calls go on, skipped, with a reason.
    const gw = gateways.create([semanticCache(), cache()]);
    const res = await gw.complete(ask('What is DNA?'));
    expect(res.flowgate.semanticCache!.reason).toBe('no-exact-cache');
  });

  it('rejects bad options at creation', () => {
    expect(() => semanticCache({ threshold: 3 })).toThrow(ConfigError);
    expect(() => semanticCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => semanticCache({ index: 'faiss' as never })).toThrow(/index/);
    expect(() =>
      semanticCache({ embedder: defineEmbedder({ id: 'x', dimensions: 4, embed: async () => [] }) }),
    ).toThrow(/no calibrated threshold/);
    expect(() => semanticCache({ persist: 42 as never })).toThrow(/persist/);
    expect(() => localEmbedder({ dimensions: 3 })).toThrow(ConfigError);
  });

  it('compare() says how similar two questions are and whether they would share an answer', async () => {
    const s = semanticCache();
    expect(await s.compare("What's the weather in Paris?", "How's the weather in Paris?")).toMatchObject({ hit: true });
    expect(await s.compare("What's the weather in Paris?", "What's the weather in London?")).toMatchObject({
      hit: false,
    });
  });
});

describe('telemetry', () => {
  it('counts results, records hit similarity, lookup time and index size, and marks the call span', async () => {
    const t = telemetry();
    const { plugins } = both();
    const gw = gateways.create(plugins, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    await gw.complete(ask("What's the weather in Paris?"));
    await gw.complete(ask("How's the weather in Paris?"));
    await gw.complete(ask('Write a poem', { temperature: 1 }));
    const m = await t.metrics();
    expect(counterBy(m, METRIC_SEMANTIC_REQUESTS, ATTR_SEMANTIC_RESULT)).toEqual({ miss: 1, hit: 1, skip: 1 });
    const similarity = points(m, METRIC_SEMANTIC_SIMILARITY);
    expect(similarity).toHaveLength(1);
    expect((similarity[0]!.value as { count: number }).count).toBe(1);
    expect(points(m, METRIC_SEMANTIC_LOOKUP_DURATION).length).toBeGreaterThan(0);
    expect(points(m, METRIC_SEMANTIC_INDEX_SIZE)[0]!.value).toBe(1);

    const spans = await t.spans();
    const calls = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    const hit = calls.find((s) => s.attributes[ATTR_SEMANTIC_HIT] === true)!;
    expect(hit.attributes[ATTR_SEMANTIC_SIMILARITY]).toBeGreaterThan(0.77);
    const lookups = spans.filter((s) => s.name === 'semantic_cache lookup');
    expect(lookups).toHaveLength(2);
    expect(lookups.map((s) => s.parentSpanContext?.spanId)).toContain(hit.spanContext().spanId);
  });

  it('streams a hit with the similarity on the stream meta', async () => {
    const { plugins } = both();
    const gw = gateways.create(plugins);
    await gw.complete(ask('How do I tie a tie?'));
    const stream = gw.stream(ask('How can I tie a tie?'));
    const { response } = await readStream(stream);
    expect(stream.meta.semanticCache!.hit).toBe(true);
    expect(response.flowgate.semanticCache!.similarity).toBe(stream.meta.semanticCache!.similarity);
  });
});
