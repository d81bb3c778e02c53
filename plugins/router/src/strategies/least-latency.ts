import type { Deployment } from '../deployment.js';
import { byScore, type SelectContext, type Strategy } from '../strategy.js';

export interface LeastLatencyOptions {
  /** Deployments within this fraction of the best estimate count as equally fast and share traffic. Default 0.1. */
  tolerance?: number;
}

/**
 * Least latency: the deployment with the lowest EWMA of time to first token (streamed calls) or of total
 * latency (whole calls). A deployment without a sample scores 0, so new ones are tried; estimates decay
 * toward 0 while a deployment is idle, so one that was slow is tried again later and, if it recovered,
 * earns its traffic back. Fallbacks: the others, fastest first.
 */
export function leastLatency(options: LeastLatencyOptions = {}): Strategy {
  const tolerance = options.tolerance ?? 0.1;
  return {
    name: 'least-latency',
    select(candidates: readonly Deployment[], ctx: SelectContext) {
      if (candidates.length < 2) return candidates;
      const streaming = ctx.call.streaming;
      return byScore(
        candidates,
        (d) => (streaming ? (d.stats.ttftMs ?? d.stats.latencyMs) : (d.stats.latencyMs ?? d.stats.ttftMs)) ?? 0,
        ctx.random,
        tolerance,
      );
    },
  };
}
