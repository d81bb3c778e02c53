import type { ChatCompletionRequest, Gateway, GatewayResponse } from '@flowgate/core';

const QUESTIONS = [
  'What is the capital of France?',
  'Explain keep-alive connections in one sentence.',
  'Write a haiku about latency.',
  'How do circuit breakers help a service?',
  'What does time to first token measure?',
  'Name three ways to cut LLM costs.',
];

export interface WorkloadResult {
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  fallbacks: number;
  sample: string;
}

/**
 * Whole and streamed calls at concurrency 4. Half the questions repeat (the cache answers them),
 * half are new (they reach the router and the flaky upstream).
 */
export async function runWorkload(gateway: Gateway, models: string[], total: number): Promise<WorkloadResult> {
  const result: WorkloadResult = { calls: 0, errors: 0, inputTokens: 0, outputTokens: 0, fallbacks: 0, sample: '' };
  const count = (res: GatewayResponse) => {
    result.inputTokens += res.usage?.prompt_tokens ?? 0;
    result.outputTokens += res.usage?.completion_tokens ?? 0;
    result.fallbacks += res.flowgate.router?.fallbacks ?? 0;
  };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const request: ChatCompletionRequest = {
        model: models[Math.floor(i / 2) % models.length]!,
        messages: [
          {
            role: 'user',
            content:
              i % 2 === 0
                ? QUESTIONS[(i / 2) % QUESTIONS.length]!
                : `Question ${i}: ${QUESTIONS[i % QUESTIONS.length]}`,
          },
        ],
        max_tokens: 200,
      };
      const options = { timeoutMs: 30_000, metadata: { tenant: 'demo', tags: { app: 'quickstart' } } };
      result.calls++;
      try {
        if (i % 4 < 2) {
          const res = await gateway.complete(request, options);
          result.sample ||= res.choices[0]?.message.content ?? '';
          count(res);
        } else {
          const stream = gateway.stream(request, options);
          for await (const _chunk of stream) {
            // A real caller would render each chunk as it arrives.
          }
          count(await stream.response);
        }
      } catch (err) {
        result.errors++;
        console.error(`call ${i} failed:`, err instanceof Error ? err.message : err);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return result;
}
