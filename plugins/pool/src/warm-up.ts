import { diag } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { ConnectScope, type ConnectTracker, type WarmUpTally } from './connect-tracker.js';
import type { OriginState } from './origin-state.js';

/** What the warm-up of one origin achieved. */
export interface OriginWarmUp {
  origin: string;
  /** `warmUp.connections`. */
  requested: number;
  /** Connections the warm-up set up. */
  opened: number;
  /** Connection set-ups that failed. */
  failed: number;
  /** Connections open when the warm-up ended (an upstream that answered `Connection: close` leaves fewer). */
  open: number;
  /** `h1` or `h2`: on HTTP/2 one connection carries every call, so `opened` is 1. */
  protocol: string | undefined;
  /** Distinct error messages, connect failures and failed warm-up requests alike. */
  errors: string[];
}

export interface WarmUpReport {
  origins: OriginWarmUp[];
  durationMs: number;
}

/**
 * Opens `warmUp.connections` connections to each origin that asks for it: that many concurrent requests
 * (`GET /` by default), each of which takes a connection of its own while it runs; any HTTP answer counts.
 * With pipelining, `pipelining` requests share a connection, so it sends that many per connection.
 * Never rejects: failures are reported, logged, and the gateway starts anyway.
 */
export async function warmUp(
  agent: Dispatcher,
  tracker: ConnectTracker,
  states: readonly OriginState[],
): Promise<WarmUpReport> {
  const started = performance.now();
  const origins = await Promise.all(states.map((s) => warmOrigin(agent, tracker, s)));
  const report = { origins, durationMs: performance.now() - started };
  for (const o of origins) {
    const what = `flowgate pool: warm-up of ${o.origin} opened ${o.opened}/${o.requested} connections (${o.open} open)`;
    if (o.errors.length > 0) diag.warn(`${what}; errors: ${o.errors.join('; ')}`);
    else diag.info(what);
  }
  return report;
}

async function warmOrigin(agent: Dispatcher, tracker: ConnectTracker, state: OriginState): Promise<OriginWarmUp> {
  const w = state.options.warmUp;
  const tally: WarmUpTally = { opened: 0, failed: 0, protocol: undefined, errors: new Set() };
  if (w !== undefined) {
    const signal = AbortSignal.timeout(w.timeoutMs);
    const one = async (): Promise<void> => {
      const res = await agent.request({ origin: state.origin, path: w.path, method: w.method, signal });
      await res.body.dump();
    };
    const requests = w.connections * Math.max(1, state.options.pipelining);
    const results = await Promise.allSettled(
      Array.from({ length: requests }, () =>
        tracker.scopes.run(new ConnectScope(state, 'warm_up', undefined, tally), one),
      ),
    );
    for (const r of results) {
      if (r.status === 'rejected') tally.errors.add(r.reason instanceof Error ? r.reason.message : String(r.reason));
    }
  }
  return {
    origin: state.origin,
    requested: w?.connections ?? 0,
    opened: tally.opened,
    failed: tally.failed,
    open: state.poolStats().connected,
    protocol: tally.protocol,
    errors: [...tally.errors],
  };
}
