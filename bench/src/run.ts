/**
 * `npm run bench -- NAME` runs one benchmark; with no name it lists them. Every `src/NAME.ts`
 * beside this file that exports `about` and `main()` is a benchmark.
 * Benchmarks print what they measured, as ratios against a baseline measured in the same run.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Bench {
  about: string;
  main(args: string[]): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const names = (await readdir(here))
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.log('usage: npm run bench -- <name> [args]\n');
  for (const n of names) {
    const b = (await import(`./${n}.js`)) as Bench;
    console.log(`  ${n.padEnd(12)} ${b.about}`);
  }
  process.exitCode = name ? 1 : 0;
} else {
  const bench = (await import(`./${name}.js`)) as Bench;
  await bench.main(args);
}
