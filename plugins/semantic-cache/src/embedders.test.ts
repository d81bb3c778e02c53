import { ConfigError, createGateway, type Provider } from '@flowgate/core';
import { type MockProvider, mockEmbedding, startMockProvider } from '@flowgate/mock-provider';
import { cache } from '@flowgate/plugin-cache';
import { openai } from '@flowgate/providers';
import { SpanKind } from '@opentelemetry/api';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { defineEmbedder } from './embedders/custom.js';
import { LOCAL_THRESHOLD, localEmbedder } from './embedders/local.js';
import { providerEmbedder } from './embedders/provider.js';
import { EmbeddingError } from './errors.js';
import { semanticCache } from './plugin.js';
import { ask, Gateways } from './semantic.test-util.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('localEmbedder', () => {
  const e = localEmbedder();

  it('makes deterministic unit vectors of its dimensions', async () => {
    const [a, b] = await e.embed(['What is the capital of France?', 'What is the capital of France?']);
    expect(a).toHaveLength(256);
    expect(dot(a!, a!)).toBeCloseTo(1, 5);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    const [small] = await localEmbedder({ dimensions: 64 }).embed(['hello']);
    expect(small).toHaveLength(64);
  });

  it('puts paraphrases above the threshold and unrelated questions far below', async () => {
    const [q, paraphrase, other] = await e.embed([
      'How do I reset my password?',
      'How can I reset my password?',
      'What is the boiling point of water?',
    ]);
    expect(dot(q!, paraphrase!)).toBeGreaterThan(LOCAL_THRESHOLD);
    expect(dot(q!, other!)).toBeLessThan(0.3);
  });

  it('merges synonyms, word forms and contractions', async () => {
    const [a, b] = await e.embed([
      'How do I remove duplicates from a list?',
      'How can I delete duplicate items from lists',
    ]);
    expect(dot(a!, b!)).toBeGreaterThan(LOCAL_THRESHOLD);
  });

  it('embeds text without content words too (never a zero vector)', async () => {
    const [a] = await e.embed(['?? !!']);
    expect(dot(a!, a!)).toBeCloseTo(1, 5);
  });
});

describe('defineEmbedder', () => {
  it('checks a user-supplied embedder', () => {
    const embed = async (texts: readonly string[]) => texts.map(() => new Float32Array(4));
    expect(defineEmbedder({ id: 'mine', dimensions: 4, threshold: 0.9, embed })).toMatchObject({
      id: 'mine',
      dimensions: 4,
      threshold: 0.9,
    });
    expect(() => defineEmbedder({ id: '', dimensions: 4, embed })).toThrow(ConfigError);
    expect(() => defineEmbedder({ id: 'x', dimensions: 0, embed })).toThrow(/dimensions/);
    expect(() => defineEmbedder({ id: 'x', dimensions: 4, threshold: 2, embed })).toThrow(/threshold/);
  });
});

describe('providerEmbedder against the mock provider over HTTP', () => {
  let mock: MockProvider;
  let provider: Provider;
  const gateways = new Gateways(() => mock);
  beforeAll(async () => {
    mock = await startMockProvider({ models: { 'mock-embed': { dimensions: 32 } } });
    provider = openai({ apiKey: 'sk-test', baseURL: `${mock.url}/v1` });
  });
  afterEach(async () => {
    await gateways.closeAll();
    mock.reset();
  });
  afterAll(async () => {
    await provider.close?.();
    await mock.close();
  });

  it('returns the provider’s vectors, in input order', async () => {
    const e = providerEmbedder({ provider, model: 'mock-embed', dimensions: 32 });
    const texts = ['weather in paris', 'paris weather', 'how do vaccines work'];
    const out = await e.embed(texts);
    texts.forEach((t, i) => {
      const expected = mockEmbedding(t, 32);
      expect(Array.from(out[i]!).map((x) => Math.round(x * 1e5))).toEqual(expected.map((x) => Math.round(x * 1e5)));
    });
    expect(mock.stats().byPath['/v1/embeddings']).toBe(1);
  });

  it('rejects vectors of the wrong size with a typed error', async () => {
    const e = providerEmbedder({ provider, model: 'mock-embed', dimensions: 64 });
    await expect(e.embed(['hello'])).rejects.toBeInstanceOf(EmbeddingError);
    const asked = providerEmbedder({ provider, model: 'mock-embed', dimensions: 16, sendDimensions: true });
    expect((await asked.embed(['hello']))[0]).toHaveLength(16);
  });

  it('inside a gateway: resolves the provider by id, uses the call’s dispatcher, traces a child span', async () => {
    const t = telemetry();
    // A dispatcher that counts what goes through it: the pool plugin's would be set the same way.
    let dispatched = 0;
    const agent = new Agent();
    const counting: Dispatcher = Object.assign(Object.create(agent) as Dispatcher, {
      dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        dispatched++;
        return agent.dispatch(opts, handler);
      },
    });
    const pool = {
      name: 'counting-pool',
      setup(host: { setDispatcher(d: Dispatcher): void }) {
        host.setDispatcher(counting);
      },
    };
    const semantic = semanticCache({
      embedder: providerEmbedder({ provider: 'openai', model: 'mock-embed', dimensions: 32, threshold: 0.9 }),
    });
    const gw = gateways.create([pool, cache(), semantic], {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
    });
    // The mock embeds a bag of words: the same words in another order are the same vector.
    await gw.complete(ask('the weather in paris'));
    const again = await gw.complete(ask('in paris the weather'));
    expect(again.flowgate.semanticCache!.hit).toBe(true);
    expect(mock.stats().byPath['/v1/embeddings']).toBe(2);
    expect(mock.stats().byPath['/v1/chat/completions']).toBe(1);
    // One chat request and two embedding requests, all through the call's dispatcher.
    expect(dispatched).toBe(3);
    const spans = await t.spans();
    const embeds = spans.filter((s) => s.name === 'embeddings mock-embed');
    expect(embeds).toHaveLength(2);
    const calls = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    expect(embeds[0]!.kind).toBe(SpanKind.CLIENT);
    expect(embeds[0]!.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(embeds[0]!.attributes['gen_ai.usage.input_tokens']).toBe(4);
    expect(calls.map((c) => c.spanContext().spanId)).toContain(embeds[1]!.parentSpanContext?.spanId);
    await agent.close();
  });

  it('names a provider the gateway does not have: a configuration error', () => {
    const semantic = semanticCache({
      embedder: providerEmbedder({ provider: 'nope', model: 'm', dimensions: 8, threshold: 0.9 }),
    });
    expect(() => createGateway({ providers: [provider], plugins: [cache(), semantic] })).toThrow(
      /no provider with id "nope"/,
    );
    expect(() => providerEmbedder({ provider, model: '', dimensions: 8 })).toThrow(ConfigError);
  });
});
