import { askParaphrases } from './paraphrases.js';
import { type DemoSetup, setUpDemo } from './setup.js';
import { printSummary } from './summary.js';
import { runWorkload } from './workload.js';

export interface DemoOptions {
  /** Where the summary goes. */
  log?: (line: string) => void;
  /** Environment to read API keys from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Calls in the scripted workload (whole and streamed). */
  calls?: number;
}

export interface DemoResult {
  calls: number;
  errors: number;
  usingMock: boolean;
}

/** The scripted workload on a set-up demo, and its summary. */
export async function workloadAndSummary(
  setup: DemoSetup,
  log: (line: string) => void,
  calls = 40,
): Promise<DemoResult> {
  log(
    `flowgate quickstart: ${setup.usingMock ? `built-in mock providers at ${setup.mocks.map((m) => m.url).join(', ')}` : 'real providers'}`,
  );
  log(`providers: ${setup.gateway.providers.map((p) => p.id).join(', ')}; models: ${setup.models.join(', ')}`);
  const warm = await setup.plugins.pool.warmUpReport();
  log(`pool warm-up: ${warm.origins.map((o) => `${o.origin} ${o.opened}/${o.requested}`).join(', ') || 'none'}`);
  const result = await runWorkload(setup.gateway, setup.models, calls);
  const paraphrases = await askParaphrases(setup.gateway, setup.models.at(-1) ?? 'gpt-4o-mini');
  await printSummary(setup, result, paraphrases, log);
  return { calls: result.calls, errors: result.errors, usingMock: setup.usingMock };
}

/**
 * The quickstart as a library: a gateway with every plugin on the built-in mock provider (or on
 * OpenAI / Anthropic when their keys are set), a short scripted workload of whole and streamed
 * calls, and a readable summary.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const setup = await setUpDemo(options.env ?? process.env);
  try {
    return await workloadAndSummary(setup, options.log ?? console.log, options.calls);
  } finally {
    await setup.close();
  }
}
