/**
 * `npm run eval -w @flowgate/plugin-semantic-cache`: precision, recall and false-hit rate of the
 * semantic cache's decision (similarity threshold + near-miss guards) on the labeled pairs of
 * `eval/pairs.jsonl`, for three embedders: the local default, the mock provider's `/v1/embeddings`
 * (through `providerEmbedder` over HTTP to a started mock: a bag-of-words stand-in, NOT a real model),
 * and an example user-supplied embedder.
 *
 * The threshold of each embedder is chosen on the `tune` split only; `test` and `fresh` are held out.
 */
import { startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { LOCAL_THRESHOLD, localEmbedder } from '../embedders/local.js';
import { providerEmbedder } from '../embedders/provider.js';
import { GUARD_NAMES, resolveGuards } from '../guards.js';
import type { Embedder } from '../types.js';
import { wordHashEmbedder } from './custom-embedder.js';
import { chooseThreshold, loadPairs, metrics, type Pair, type Scored, score, similarities } from './pairs.js';

const MAX_FALSE_HIT_RATE = 0.01;
const MARGIN = 0.05;
const SPLITS = ['tune', 'test', 'fresh'] as const;

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const allGuards = resolveGuards(undefined);
const noGuards = resolveGuards(Object.fromEntries(GUARD_NAMES.map((g) => [g, false])));
/** The threshold is chosen without the substitution guard: it must stand on its own for the near misses the named guards cannot see. */
const choosingGuards = resolveGuards({ substitution: false });

async function evaluate(name: string, embedder: Embedder, pairs: readonly Pair[], shipped?: number): Promise<void> {
  const sims = await similarities(embedder, pairs);
  const of = (split: string) => {
    const idx = pairs.flatMap((p, i) => (split === 'all' || p.split === split ? [i] : []));
    return [idx.map((i) => pairs[i]!), idx.map((i) => sims[i]!)] as const;
  };
  const [tunePairs, tuneSims] = of('tune');
  const chosen = chooseThreshold(tunePairs, tuneSims, choosingGuards, MAX_FALSE_HIT_RATE, MARGIN);
  const threshold = shipped ?? chosen;
  console.log(`\n## ${name}: ${embedder.id}, ${embedder.dimensions} dimensions`);
  console.log(
    shipped === undefined
      ? `threshold ${threshold.toFixed(2)} (chosen on tune)`
      : `threshold ${threshold.toFixed(2)} (the shipped default; chosen on tune by this run: ${chosen.toFixed(2)})`,
  );
  const rows: string[][] = [];
  for (const split of [...SPLITS, 'all']) {
    const [p, s] = of(split);
    const m = metrics(score(p, s, threshold, allGuards));
    const simOnly = metrics(score(p, s, threshold, noGuards));
    rows.push([
      split === 'tune' ? 'tune (threshold chosen here)' : split === 'all' ? 'all' : `${split} (held out)`,
      String(m.pairs),
      pct(m.precision),
      pct(m.recall),
      pct(m.falseHitRate, 2),
      `${m.falseHits}/${m.nearMisses}`,
      pct(simOnly.falseHitRate),
      pct(simOnly.recall),
    ]);
  }
  console.log(
    table(
      ['split', 'pairs', 'precision', 'recall', 'false-hit rate', 'false hits', 'sim-only FHR', 'sim-only recall'],
      rows,
    ),
  );
  // The same embedder when the threshold is left to lean on every guard, the substitution guard included.
  const leaning = chooseThreshold(tunePairs, tuneSims, allGuards, MAX_FALSE_HIT_RATE, MARGIN);
  if (leaning < threshold) {
    const alt = SPLITS.map((split) => {
      const [p, s] = of(split);
      const m = metrics(score(p, s, leaning, allGuards));
      return `${split} P ${pct(m.precision)} R ${pct(m.recall)} FHR ${pct(m.falseHitRate, 2)} (${m.falseHits}/${m.nearMisses})`;
    });
    console.log(
      `if the threshold is chosen leaning on every guard (${leaning.toFixed(2)}; not the rule): ${alt.join('; ')}`,
    );
  }
  const scored = score(pairs, sims, threshold, allGuards);
  console.log('\nnear misses by kind (all splits): refused by the threshold, by a guard, or served (a false hit)');
  const kinds = [...new Set(pairs.filter((p) => p.label === 'miss').map((p) => p.kind))];
  const kindRows = kinds.map((kind) => {
    const of = scored.filter((s) => s.label === 'miss' && s.kind === kind);
    const byGuard = new Map<string, number>();
    for (const s of of)
      if (s.reason && s.reason !== 'below-threshold') byGuard.set(s.reason, (byGuard.get(s.reason) ?? 0) + 1);
    return [
      kind,
      String(of.length),
      String(of.filter((s) => s.reason === 'below-threshold').length),
      [...byGuard].map(([g, n]) => `${g} ${n}`).join(', ') || '-',
      String(of.filter((s) => s.reason === undefined).length),
    ];
  });
  console.log(table(['kind', 'pairs', 'threshold', 'guards', 'false hits'], kindRows));
  const falseHits = scored.filter((s) => s.label === 'miss' && s.reason === undefined);
  if (falseHits.length > 0) {
    console.log('\nfalse hits:');
    for (const s of falseHits) console.log(`  [${s.split}] ${s.similarity.toFixed(3)} ${s.kind}: "${s.a}" → "${s.b}"`);
  }
  if (process.argv.includes('--verbose')) printMissed(scored);
}

function printMissed(scored: readonly Scored[]): void {
  console.log('\nparaphrases not served:');
  for (const s of scored) {
    if (s.label === 'hit' && s.reason !== undefined) {
      console.log(`  [${s.split}] ${s.similarity.toFixed(3)} ${s.reason}: "${s.a}" → "${s.b}"`);
    }
  }
}

const pairs = await loadPairs(new URL('../../eval/pairs.jsonl', import.meta.url));
const count = (f: (p: Pair) => boolean) => pairs.filter(f).length;
console.log(
  `# semantic cache evaluation: ${pairs.length} labeled pairs (${count((p) => p.label === 'hit')} paraphrases that should hit, ${count((p) => p.label === 'miss')} near misses that must not) from eval/pairs.jsonl`,
);
console.log(
  `splits: ${SPLITS.map((s) => `${s} ${count((p) => p.split === s)}`).join(', ')}. ` +
    `Threshold rule: the lowest threshold (0.01 steps) whose false-hit rate on tune is <= ${pct(MAX_FALSE_HIT_RATE, 0)} ` +
    `with every guard but "substitution", plus ${MARGIN}. Pair (a, b): a is cached, b is asked.`,
);
console.log(
  'precision = served paraphrases / all served; recall = served paraphrases / paraphrases; false-hit rate = served near misses / near misses. ' +
    '"sim-only": the same threshold without any guard.',
);

await evaluate('local embedder (the default)', localEmbedder(), pairs, LOCAL_THRESHOLD);

const mock = await startMockProvider();
try {
  const provider = openai({ apiKey: 'eval', baseURL: `${mock.url}/v1` });
  const embedder = providerEmbedder({ provider, model: 'mock-embedding', dimensions: 64 });
  await evaluate(
    'mock provider /v1/embeddings via providerEmbedder (a bag-of-words MOCK, not a real model)',
    embedder,
    pairs,
  );
  console.log(`(the mock served ${mock.stats().byPath['/v1/embeddings'] ?? 0} embedding requests)`);
  await provider.close?.();
} finally {
  await mock.close();
}

await evaluate('user-supplied example (eval/custom-embedder.ts: plain word hashing)', wordHashEmbedder(), pairs);
