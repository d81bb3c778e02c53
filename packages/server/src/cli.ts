#!/usr/bin/env node
import { runCli } from './cli-main.js';

runCli(process.argv.slice(2)).then(
  (outcome) => {
    if (outcome.exitCode !== undefined) process.exitCode = outcome.exitCode;
  },
  (err: unknown) => {
    process.stderr.write(`flowgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
