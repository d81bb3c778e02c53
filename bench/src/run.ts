/**
 * `npm run bench -- NAME` runs one benchmark; with no name it lists them.
 * Benchmarks print what they measured, as ratios against a baseline measured in the same run.
 */
const benches: Record<string, { about: string; load: () => Promise<{ main(): Promise<void> }> }> = {
  overhead: {
    about: 'raw undici vs gateway.complete, without and with the OpenTelemetry SDK',
    load: () => import('./overhead.js'),
  },
};

const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.log('usage: npm run bench -- <name>\n');
  for (const [n, b] of Object.entries(benches)) console.log(`  ${n.padEnd(12)} ${b.about}`);
  process.exitCode = name ? 1 : 0;
} else {
  await (await bench.load()).main();
}
