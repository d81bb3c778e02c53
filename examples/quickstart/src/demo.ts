import { type ChatCompletionRequest, createGateway, type Gateway, type Provider } from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { anthropic, openai } from '@flowgate/providers';

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

const QUESTIONS = [
  'What is the capital of France?',
  'Explain keep-alive connections in one sentence.',
  'Write a haiku about latency.',
  'How do circuit breakers help a service?',
  'What does time to first token measure?',
  'Name three ways to cut LLM costs.',
];

/**
 * The quickstart: a gateway on the built-in mock provider (or on OpenAI / Anthropic when their keys
 * are set), a short scripted workload of whole and streamed calls, and a readable summary.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? console.log;
  const env = options.env ?? process.env;
  const total = options.calls ?? 24;

  let mock: MockProvider | undefined;
  const providers: Provider[] = [];
  let models: string[];
  if (env.OPENAI_API_KEY || env.ANTHROPIC_API_KEY) {
    models = [];
    if (env.ANTHROPIC_API_KEY) {
      providers.push(anthropic({ apiKey: env.ANTHROPIC_API_KEY }));
      models.push(env.FLOWGATE_ANTHROPIC_MODEL ?? 'claude-haiku-4-5');
    }
    if (env.OPENAI_API_KEY) {
      providers.push(openai({ apiKey: env.OPENAI_API_KEY }));
      models.push(env.FLOWGATE_OPENAI_MODEL ?? 'gpt-4o-mini');
    }
  } else {
    // Latency shaped like a hosted model: a short wait for headers, a first token, then ~150 tokens/s.
    mock = await startMockProvider({
      defaults: { latencyMs: { min: 20, max: 60 }, ttftMs: 40, tokensPerSecond: 150 },
    });
    // The default router takes the first provider that serves a model: anthropic() serves claude-*,
    // openai() serves everything, so it goes last.
    providers.push(anthropic({ id: 'mock-anthropic', apiKey: 'demo', baseURL: mock.url }));
    providers.push(openai({ id: 'mock-openai', apiKey: 'demo', baseURL: `${mock.url}/v1` }));
    models = ['gpt-4o-mini', 'claude-haiku-4-5'];
  }

  const gateway = createGateway({ providers });
  log(`flowgate quickstart: ${mock ? `built-in mock provider at ${mock.url}` : 'real providers'}`);
  log(`providers: ${providers.map((p) => p.id).join(', ')}; models: ${models.join(', ')}`);

  const totals = { calls: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
  let sample = '';
  try {
    await runWorkload(gateway, total, models, totals, (text) => {
      sample ||= text;
    });
    printSummary(gateway, totals, sample, log);
  } finally {
    await gateway.close();
    await mock?.close();
  }
  return { calls: totals.calls, errors: totals.errors, usingMock: mock !== undefined };
}

async function runWorkload(
  gateway: Gateway,
  total: number,
  models: string[],
  totals: { calls: number; errors: number; inputTokens: number; outputTokens: number },
  onText: (text: string) => void,
): Promise<void> {
  const concurrency = 4;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const request: ChatCompletionRequest = {
        model: models[i % models.length]!,
        messages: [{ role: 'user', content: QUESTIONS[i % QUESTIONS.length]! }],
        max_tokens: 200,
      };
      totals.calls++;
      try {
        if (i % 2 === 0) {
          const res = await gateway.complete(request, { timeoutMs: 30_000 });
          onText(res.choices[0]?.message.content ?? '');
          totals.inputTokens += res.usage?.prompt_tokens ?? 0;
          totals.outputTokens += res.usage?.completion_tokens ?? 0;
        } else {
          const stream = gateway.stream(request, { timeoutMs: 30_000 });
          for await (const _chunk of stream) {
            // A real caller would render each chunk as it arrives.
          }
          const res = await stream.response;
          totals.inputTokens += res.usage?.prompt_tokens ?? 0;
          totals.outputTokens += res.usage?.completion_tokens ?? 0;
        }
      } catch (err) {
        totals.errors++;
        console.error(`call ${i} failed:`, err instanceof Error ? err.message : err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function printSummary(
  gateway: Gateway,
  totals: { calls: number; errors: number; inputTokens: number; outputTokens: number },
  sample: string,
  log: (line: string) => void,
): void {
  const s = gateway.stats();
  const chat = s.operations.chat;
  const ms = (v: number | undefined) => `${(v ?? 0).toFixed(1)} ms`;
  log('');
  log(`sample answer: ${sample}`);
  log('');
  log('summary');
  log(`  calls            ${totals.calls} (${totals.errors} errors)`);
  log(
    `  latency          p50 ${ms(chat?.latencyMs.p50)}  p95 ${ms(chat?.latencyMs.p95)}  max ${ms(chat?.latencyMs.max)}`,
  );
  log(
    `  first token      p50 ${ms(chat?.timeToFirstChunkMs.p50)}  p95 ${ms(chat?.timeToFirstChunkMs.p95)}  (streamed calls: ${chat?.timeToFirstChunkMs.count ?? 0})`,
  );
  log(`  tokens           ${totals.inputTokens} in, ${totals.outputTokens} out`);
  for (const [id, p] of Object.entries(s.providers)) {
    log(`  ${id.padEnd(16)} ${p.count} calls, p50 ${ms(p.latencyMs.p50)}, errors ${p.errors}`);
  }
}
