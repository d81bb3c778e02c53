import { describe, expect, it } from 'vitest';
import type { CostInfo } from './cost.js';
import { CostAttributeSets } from './cost-attributes.js';
import { UsageLedger } from './usage-report.js';

const cost = (model: string, usd: number | undefined): CostInfo => ({
  usd,
  inputTokens: 10,
  outputTokens: 5,
  cachedTokens: 2,
  cacheCreationTokens: 0,
  model,
  priced: usd !== undefined,
});

describe('usage ledger', () => {
  it('sums per tenant, app and model, and folds new rows past maxRows into _OTHER', () => {
    const ledger = new UsageLedger(2);
    ledger.record('acme', 'chat', cost('m1', 0.5), 10);
    ledger.record('acme', 'chat', cost('m1', 0.25), 30);
    ledger.record('acme', 'search', cost('m1', undefined), 5);
    ledger.record('beta', 'chat', cost('m1', 1), 1); // a third row: folded
    ledger.record('beta', 'chat', cost('m2', 1), 1); // folded under its own model
    ledger.record('acme', 'chat', cost('m1', 0.25), 20); // a known row still counts as itself
    const rows = ledger.report().rows;
    const row = (tenant: string, app: string, model: string) =>
      rows.find((r) => r.tenant === tenant && r.app === app && r.model === model);
    expect(row('acme', 'chat', 'm1')).toMatchObject({ requests: 3, costUsd: 1, inputTokens: 30, avgLatencyMs: 20 });
    expect(row('acme', 'search', 'm1')).toMatchObject({ requests: 1, costUsd: 0, unpricedRequests: 1 });
    expect(row('_OTHER', '_OTHER', 'm1')).toMatchObject({ requests: 1, costUsd: 1 });
    expect(row('_OTHER', '_OTHER', 'm2')).toMatchObject({ requests: 1, costUsd: 1 });
    expect(rows).toHaveLength(4);
    expect(ledger.report().totals).toMatchObject({ requests: 6, costUsd: 3, unpricedRequests: 1 });
    ledger.reset();
    expect(ledger.report().rows).toHaveLength(0);
    ledger.record('gamma', 'chat', cost('m1', 1), 1); // room again after a reset
    expect(ledger.report().rows[0]).toMatchObject({ tenant: 'gamma', app: 'chat', model: 'm1' });
  });
});

describe('cost attribute sets', () => {
  it('hands out one frozen set per series, and fresh sets past its bound', () => {
    const sets = new CostAttributeSets(2);
    const a = sets.get('m1', 'openai', 'acme');
    expect(a).toEqual({ 'gen_ai.response.model': 'm1', 'gen_ai.provider.name': 'openai', 'flowgate.tenant': 'acme' });
    expect(Object.isFrozen(a)).toBe(true);
    expect(sets.get('m1', 'openai', 'acme')).toBe(a);
    const b = sets.get('m1', undefined, undefined);
    expect(b).toEqual({ 'gen_ai.response.model': 'm1' });
    expect(sets.get('m1', undefined, undefined)).toBe(b);
    const past = sets.get('m2', 'openai', undefined);
    expect(past).toEqual({ 'gen_ai.response.model': 'm2', 'gen_ai.provider.name': 'openai' });
    expect(sets.get('m2', 'openai', undefined)).not.toBe(past);
  });
});
