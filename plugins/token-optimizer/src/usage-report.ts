import { TupleMap } from '@flowgate/core';
import type { CostInfo } from './cost.js';

/** One line of the usage report: a tenant's use of a model from one app. */
export interface UsageRow {
  tenant: string;
  app: string;
  model: string;
  requests: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  /** Summed over priced requests only. */
  costUsd: number;
  /** Requests whose model had no price (their cost is not in `costUsd`). */
  unpricedRequests: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  /** Per priced request. */
  avgCostUsd: number;
  avgLatencyMs: number;
}

export interface UsageReport {
  /** ISO time the counting started (plugin creation or the last reset). */
  since: string;
  /** Sorted by cost, highest first. */
  rows: UsageRow[];
  totals: Omit<UsageRow, 'tenant' | 'app' | 'model'>;
}

interface Acc {
  tenant: string;
  app: string;
  model: string;
  requests: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  costUsd: number;
  priced: number;
  latencyMs: number;
}

/** The tenant and app of calls that name none. */
export const UNTAGGED = '-';
const OTHER = '_OTHER';

/** Usage per (tenant, app, model), in process. Past `maxRows` distinct keys, new ones fold into `_OTHER`. */
export class UsageLedger {
  /** Rows by (tenant, app, model): found without building a key string per call. */
  private rows = new TupleMap<Acc>();
  private since = Date.now();

  constructor(private readonly maxRows = 10_000) {}

  record(tenant: string, app: string, cost: CostInfo, latencyMs: number): void {
    let acc = this.rows.get(tenant, app, cost.model);
    if (!acc && this.rows.size >= this.maxRows) {
      tenant = OTHER;
      app = OTHER;
      acc = this.rows.get(OTHER, OTHER, cost.model);
    }
    if (!acc) {
      acc = {
        tenant,
        app,
        model: cost.model,
        requests: 0,
        inputTokens: 0,
        cachedTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        priced: 0,
        latencyMs: 0,
      };
      this.rows.set(acc, tenant, app, cost.model);
    }
    acc.requests++;
    acc.inputTokens += cost.inputTokens;
    acc.cachedTokens += cost.cachedTokens;
    acc.outputTokens += cost.outputTokens;
    acc.latencyMs += latencyMs;
    if (cost.usd !== undefined) {
      acc.costUsd += cost.usd;
      acc.priced++;
    }
  }

  report(): UsageReport {
    const rows = [...this.rows.values()].map((a) => ({ tenant: a.tenant, app: a.app, model: a.model, ...finish(a) }));
    rows.sort((x, y) => y.costUsd - x.costUsd || y.requests - x.requests);
    const sum: Acc = {
      tenant: '',
      app: '',
      model: '',
      requests: 0,
      inputTokens: 0,
      cachedTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      priced: 0,
      latencyMs: 0,
    };
    for (const a of this.rows.values()) {
      sum.requests += a.requests;
      sum.inputTokens += a.inputTokens;
      sum.cachedTokens += a.cachedTokens;
      sum.outputTokens += a.outputTokens;
      sum.costUsd += a.costUsd;
      sum.priced += a.priced;
      sum.latencyMs += a.latencyMs;
    }
    return { since: new Date(this.since).toISOString(), rows, totals: finish(sum) };
  }

  reset(): void {
    this.rows = new TupleMap();
    this.since = Date.now();
  }
}

function finish(a: Acc): Omit<UsageRow, 'tenant' | 'app' | 'model'> {
  const n = a.requests || 1;
  return {
    requests: a.requests,
    inputTokens: a.inputTokens,
    cachedTokens: a.cachedTokens,
    outputTokens: a.outputTokens,
    costUsd: a.costUsd,
    unpricedRequests: a.requests - a.priced,
    avgInputTokens: a.inputTokens / n,
    avgOutputTokens: a.outputTokens / n,
    avgCostUsd: a.priced > 0 ? a.costUsd / a.priced : 0,
    avgLatencyMs: a.latencyMs / n,
  };
}

/** The report as an aligned text table (for logs and demos). */
export function formatUsageReport(report: UsageReport): string {
  const header = ['tenant', 'app', 'model', 'requests', 'in tok', 'cached', 'out tok', 'cost $', 'avg $', 'avg ms'];
  const line = (r: UsageRow | (UsageReport['totals'] & { tenant: string; app: string; model: string })) => [
    r.tenant,
    r.app,
    r.model,
    String(r.requests),
    String(r.inputTokens),
    String(r.cachedTokens),
    String(r.outputTokens),
    r.unpricedRequests > 0 && r.costUsd === 0 ? 'unpriced' : r.costUsd.toFixed(6),
    r.avgCostUsd.toFixed(6),
    r.avgLatencyMs.toFixed(1),
  ];
  const cells = [header, ...report.rows.map(line), line({ ...report.totals, tenant: 'total', app: '', model: '' })];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}
