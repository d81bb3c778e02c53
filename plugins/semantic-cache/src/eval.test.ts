/**
 * The evaluation set as a regression test: the default embedder, at its shipped threshold, with
 * every guard, must keep its false-hit rate at most 1% and its paraphrase recall at least 50% on
 * every split (the numbers `npm run eval` prints).
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_THRESHOLD, localEmbedder } from './embedders/local.js';
import { loadPairs, metrics, score, similarities } from './eval/pairs.js';
import { resolveGuards } from './guards.js';

describe('evaluation set', async () => {
  const pairs = await loadPairs(new URL('../eval/pairs.jsonl', import.meta.url));
  const sims = await similarities(localEmbedder(), pairs);

  it('has at least 300 labeled pairs of both kinds, every near-miss kind, in three splits', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(300);
    expect(new Set(pairs.map((p) => p.kind))).toEqual(
      new Set(['paraphrase', 'city', 'number', 'negation', 'entity', 'unit', 'date', 'quote', 'semantic']),
    );
    expect(new Set(pairs.map((p) => p.split))).toEqual(new Set(['tune', 'test', 'fresh']));
    expect(new Set(pairs.map((p) => `${p.a}\u0000${p.b}`)).size).toBe(pairs.length);
  });

  for (const split of ['tune', 'test', 'fresh'] as const) {
    it(`keeps false hits <= 1% and recall >= 50% on ${split}`, () => {
      const idx = pairs.flatMap((p, i) => (p.split === split ? [i] : []));
      const m = metrics(
        score(
          idx.map((i) => pairs[i]!),
          idx.map((i) => sims[i]!),
          LOCAL_THRESHOLD,
          resolveGuards(undefined),
        ),
      );
      expect(m.falseHitRate).toBeLessThanOrEqual(0.01);
      expect(m.recall).toBeGreaterThanOrEqual(0.5);
    });
  }
});
