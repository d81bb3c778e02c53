#!/usr/bin/env node
import { parseCliOptions, USAGE } from './cli-options.js';
import { startMockProvider } from './server.js';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCliOptions>;
  try {
    parsed = parseCliOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const mock = await startMockProvider(parsed.options);
  process.stdout.write(`flowgate-mock listening on ${mock.url}\n`);
  const stop = (): void => {
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`flowgate-mock: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
