import type { ChatCompletionRequest } from '@flowgate/core';
import type { Deployment } from '../deployment.js';
import { estimateCost } from '../prices.js';
import type { SelectContext, Strategy } from '../strategy.js';

export interface CostAwareOptions {
  /** Output tokens assumed when the request sets no `max_tokens`. Default 256. */
  defaultOutputTokens?: number;
}

/** Rough prompt size: 4 characters a token plus 4 per message (no tokenizer on the routing path). */
export function estimatePromptTokens(request: ChatCompletionRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    const c = m.content;
    if (typeof c === 'string') chars += c.length;
    else if (c) for (const part of c) if (part.type === 'text') chars += part.text.length;
  }
  return Math.ceil(chars / 4) + 4 * request.messages.length;
}

/**
 * Cost-aware: the cheapest deployment that meets the call's constraints. A deployment is left out when the
 * estimated prompt plus output does not fit its `contextWindow`, when the estimated cost is above the call's
 * `router.maxCostUsd`, or when its latency estimate is above the call's `router.maxLatencyMs`. Prices come
 * from the deployment, else the token optimizer's table, else the router's `prices`; a deployment without a
 * price sorts last. Deployments of equal cost share traffic in turn.
 */
export function costAware(options: CostAwareOptions = {}): Strategy {
  const defaultOutput = options.defaultOutputTokens ?? 256;
  const turns = new Map<string, number>();
  return {
    name: 'cost',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      const request = ctx.call.request;
      const input = estimatePromptTokens(request);
      const output = request.max_completion_tokens ?? request.max_tokens ?? defaultOutput;
      const constraints = ctx.call.options.router;
      const maxCost = constraints?.maxCostUsd;
      const maxLatency = constraints?.maxLatencyMs;
      const scored: { d: Deployment; cost: number }[] = [];
      for (const d of candidates) {
        if (d.contextWindow !== undefined && input + output > d.contextWindow) continue;
        if (maxLatency !== undefined) {
          const latency = ctx.call.streaming ? d.stats.ttftMs : d.stats.latencyMs;
          if (latency !== undefined && latency > maxLatency) continue;
        }
        const price = ctx.priceOf(d);
        const cost = price ? estimateCost(price, input, output) : Number.POSITIVE_INFINITY;
        if (maxCost !== undefined && !(cost <= maxCost)) continue;
        scored.push({ d, cost });
      }
      if (scored.length === 0) return [];
      scored.sort((a, b) => a.cost - b.cost);
      let ties = 1;
      while (ties < scored.length && scored[ties]!.cost === scored[0]!.cost) ties++;
      if (ties > 1) {
        const turn = turns.get(ctx.group) ?? 0;
        turns.set(ctx.group, (turn + 1) % 1_000_000_007);
        const head = scored.slice(0, ties);
        for (let i = 0; i < ties; i++) scored[i] = head[(turn + i) % ties]!;
      }
      return scored.map((s) => s.d);
    },
  };
}
