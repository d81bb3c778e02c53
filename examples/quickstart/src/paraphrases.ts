import type { Gateway } from '@flowgate/core';

/** Pairs asked one after the other: paraphrases should share an answer, near misses must not. */
const PAIRS: [string, string][] = [
  ["What's the weather in Paris?", "How's the weather in Paris?"],
  ['How do I undo the last commit in git?', 'How can I undo my last git commit?'],
  ['Convert 5 kilometers to miles', 'How many miles is 5 kilometers?'],
  ["What's the weather in Paris?", "What's the weather in London?"],
  ['Which foods are safe for dogs?', 'Which foods are not safe for dogs?'],
];

/** Asks the pairs and returns one line per second question: semantic hit (and similarity) or why not. */
export async function askParaphrases(gateway: Gateway, model: string): Promise<string[]> {
  const options = { metadata: { tenant: 'demo', tags: { app: 'quickstart' } } };
  const lines: string[] = [];
  for (const [first, second] of PAIRS) {
    await gateway.complete({ model, messages: [{ role: 'user', content: first }] }, options);
    const res = await gateway.complete({ model, messages: [{ role: 'user', content: second }] }, options);
    const s = res.flowgate.semanticCache;
    const verdict = s?.hit
      ? `semantic hit (similarity ${s.similarity?.toFixed(2)})`
      : `${s?.result ?? 'exact hit'}${s?.reason ? ` (${s.reason})` : ''}`;
    lines.push(`  ${JSON.stringify(second).padEnd(46)} ${verdict}`);
  }
  return lines;
}
