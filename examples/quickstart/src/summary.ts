import type { DemoSetup } from './setup.js';
import type { WorkloadResult } from './workload.js';

const ms = (v: number | undefined) => `${(v ?? 0).toFixed(1)} ms`;
const usd = (v: number | undefined) => `$${(v ?? 0).toFixed(6)}`;

/** The readable summary: calls, latency, tokens, then one block per plugin. */
export async function printSummary(
  setup: DemoSetup,
  w: WorkloadResult,
  paraphrases: string[],
  log: (line: string) => void,
): Promise<void> {
  const { gateway, plugins } = setup;
  const s = gateway.stats();
  const chat = s.operations.chat;
  log('');
  log(`sample answer: ${w.sample}`);
  log('');
  log('summary');
  log(`  calls            ${w.calls} (${w.errors} errors)`);
  log(
    `  latency          p50 ${ms(chat?.latencyMs.p50)}  p95 ${ms(chat?.latencyMs.p95)}  max ${ms(chat?.latencyMs.max)}`,
  );
  log(
    `  first token      p50 ${ms(chat?.timeToFirstChunkMs.p50)}  p95 ${ms(chat?.timeToFirstChunkMs.p95)}  (streamed calls: ${chat?.timeToFirstChunkMs.count ?? 0})`,
  );
  log(`  tokens           ${w.inputTokens} in, ${w.outputTokens} out`);
  for (const [id, p] of Object.entries(s.providers)) {
    log(`  ${id.padEnd(16)} ${p.count} calls, p50 ${ms(p.latencyMs.p50)}, errors ${p.errors}`);
  }

  const c = plugins.cache.stats();
  log('');
  log(
    `cache              hit rate ${(c.hitRate * 100).toFixed(0)}% (${c.hits} hits, ${c.coalesced} coalesced, ${c.misses} misses), ${c.callsSaved} upstream calls saved`,
  );

  const sem = plugins.semantic.stats();
  log(
    `semantic cache     ${sem.hits} hits, ${sem.misses} misses, ${sem.guardRejected} refused by a guard (paraphrases asked after their first phrasing):`,
  );
  for (const line of paraphrases) log(line);

  log(`router             ${w.fallbacks} fallbacks`);
  for (const d of plugins.router.deployments()) {
    log(`  ${d.key.padEnd(30)} breaker ${d.breaker.padEnd(9)} ok ${d.successes}, failed ${d.failures}`);
  }

  log('cost per model');
  for (const r of plugins.tokens.usageReport().rows) {
    log(
      `  ${r.model.padEnd(18)} ${String(r.requests).padStart(3)} calls  ${usd(r.costUsd)}  (avg ${r.avgInputTokens.toFixed(0)} in / ${r.avgOutputTokens.toFixed(0)} out tokens)`,
    );
  }
  const b = await plugins.tokens.budgetState('demo');
  log(
    `budget (tenant demo) ${usd(b.day.spentUsd)} of $${b.day.limitUsd ?? '-'} today, ${usd(b.day.remainingUsd)} left`,
  );

  // Pool gauges settle one event-loop turn after the last answer.
  await new Promise((r) => setImmediate(r));
  log('pool');
  for (const [origin, p] of Object.entries(plugins.pool.stats())) {
    log(
      `  ${origin.padEnd(28)} open ${p.connected} (free ${p.free}), queued ${p.queued}, connects ${p.connects} (p50 ${p.connectP50Ms?.toFixed(1) ?? '-'} ms)`,
    );
  }

  const r = plugins.profiler.snapshot();
  log(
    `runtime            GC pause p99 ${r.gc.p99Ms.toFixed(2)} ms (${r.gc.count} GCs), heap ${(r.heap.usedBytes / 2 ** 20).toFixed(1)} MB of ${(r.heap.limitBytes / 2 ** 20).toFixed(0)} MB, event-loop delay p99 ${r.eventLoop.delayP99Ms.toFixed(2)} ms`,
  );
}
