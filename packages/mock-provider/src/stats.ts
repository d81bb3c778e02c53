import type { MockStats } from './types.js';

/** The live counters of one server; `snapshot()` copies them for callers. */
export function createStats(): MockStats {
  return {
    requests: 0,
    byPath: {},
    byModel: {},
    streamsStarted: 0,
    streamsCompleted: 0,
    streamsAborted: 0,
    requestsAborted: 0,
    chunksSent: 0,
    faultsInjected: {},
    connections: 0,
    activeConnections: 0,
    lastRequest: undefined,
  };
}

export function snapshot(stats: MockStats): MockStats {
  return {
    ...stats,
    byPath: { ...stats.byPath },
    byModel: { ...stats.byModel },
    faultsInjected: { ...stats.faultsInjected },
    lastRequest: stats.lastRequest === undefined ? undefined : { ...stats.lastRequest },
  };
}

/** Zero the counters, keeping the connection gauge (connections stay open across a reset). */
export function zero(stats: MockStats): void {
  const active = stats.activeConnections;
  Object.assign(stats, createStats());
  stats.activeConnections = active;
}

export function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
