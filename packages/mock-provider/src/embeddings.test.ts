import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockEmbedding } from './embeddings.js';
import { json, post, postJson } from './helpers.test-suite.js';
import { startMockProvider } from './server.js';
import type { MockProvider } from './types.js';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ models: { small: { dimensions: 8 }, 'listed-model': {} } });
});
afterAll(() => mock.close());

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));

describe('embeddings', () => {
  it('returns deterministic unit vectors of 64 dimensions with word-count usage', async () => {
    const first = await postJson(mock.url, '/v1/embeddings', { model: 'emb', input: ['hello world', 'x'] });
    const again = await postJson(mock.url, '/v1/embeddings', { model: 'emb', input: 'hello world' });
    expect(first.object).toBe('list');
    expect(first.model).toBe('emb');
    expect(first.data.map((d: { index: number; object: string }) => [d.index, d.object])).toEqual([
      [0, 'embedding'],
      [1, 'embedding'],
    ]);
    const [a, b] = first.data.map((d: { embedding: number[] }) => d.embedding);
    expect(a).toHaveLength(64);
    expect(norm(a)).toBeCloseTo(1, 9);
    expect(norm(b)).toBeCloseTo(1, 9);
    expect(again.data[0].embedding).toEqual(a);
    expect(a).not.toEqual(b);
    expect(first.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(again.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it('honours request dimensions, then the model behaviour', async () => {
    const asked = await postJson(mock.url, '/v1/embeddings', { model: 'small', input: 'a', dimensions: 16 });
    expect(asked.data[0].embedding).toHaveLength(16);
    const byModel = await postJson(mock.url, '/v1/embeddings', { model: 'small', input: 'a' });
    expect(byModel.data[0].embedding).toHaveLength(8);
    const bad = await post(mock.url, '/v1/embeddings', { model: 'small', input: 'a', dimensions: 0 });
    expect(bad.status).toBe(400);
  });

  it('encodes base64 float32 when asked', async () => {
    const body = await postJson(mock.url, '/v1/embeddings', { model: 'emb', input: 'cats', encoding_format: 'base64' });
    const bytes = Buffer.from(body.data[0].embedding, 'base64');
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    const expected = mockEmbedding('cats', 64);
    expect(floats).toHaveLength(64);
    floats.forEach((f, i) => {
      expect(f).toBeCloseTo(expected[i]!, 5);
    });
  });

  it('places texts that share words closer than unrelated texts', () => {
    const base = mockEmbedding('the cat sat on the mat');
    expect(cosine(base, mockEmbedding('The cat sat on the mat'))).toBeCloseTo(1, 9);
    expect(cosine(base, mockEmbedding('the cat sat on a mat'))).toBeGreaterThan(
      cosine(base, mockEmbedding('quarterly revenue grew strongly')),
    );
  });

  it('rejects bad input with 400', async () => {
    const res = await post(mock.url, '/v1/embeddings', { model: 'emb', input: [1, 2] });
    expect(res.status).toBe(400);
    expect((await json(res)).error.type).toBe('invalid_request_error');
  });
});

describe('models list', () => {
  it('lists configured and seen models in OpenAI shape', async () => {
    await post(mock.url, '/v1/chat/completions', { model: 'seen-model', messages: [] });
    const body = await json(await fetch(`${mock.url}/v1/models`));
    expect(body.object).toBe('list');
    const ids = body.data.map((m: { id: string }) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['small', 'listed-model', 'seen-model']));
    expect(new Set(ids).size).toBe(ids.length);
    expect(body.data[0]).toEqual({
      id: expect.any(String),
      object: 'model',
      created: expect.any(Number),
      owned_by: 'flowgate-mock',
    });
  });

  it('uses the Anthropic shape when anthropic-version is sent', async () => {
    const body = await json(await fetch(`${mock.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } }));
    expect(body.has_more).toBe(false);
    expect(body.data[0]).toMatchObject({ type: 'model', id: expect.any(String), display_name: expect.any(String) });
    expect(body.first_id).toBe(body.data[0].id);
  });
});
