/**
 * Every metric the Grafana dashboard of examples/observability queries exists in the gateway's
 * /metrics output: the example's own gateway config (every plugin, Prometheus mounted on /metrics),
 * a short workload that exercises fallbacks, breakers, retries, both caches, budgets and streams,
 * then the names extracted from the dashboard's PromQL are looked up in the exposition text.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, type ExampleGateway, runWorkload, startExampleGateway } from './gateway.test-util.js';
import {
  countedNames,
  dashboardQueries,
  type Exposition,
  isCounterLike,
  metricNames,
  parseExposition,
  templateMetricNames,
} from './promql.test-util.js';

const dashboard: unknown = JSON.parse(readFileSync(`${EXAMPLE_DIR}grafana/dashboards/flowgate.json`, 'utf8'));
const queries = dashboardQueries(dashboard);

describe('metric names in PromQL', () => {
  it('keeps metric names and drops functions, label names, strings, durations and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_duration_bucket{gen_ai_request_model=~"$model", x!="a,b{c}"}[$__rate_interval])))',
      ),
    ).toEqual(['gen_ai_client_operation_duration_bucket']);
    expect(
      metricNames(
        'sum by (error_type) (rate(a_count{error_type!=""}[5m])) / ignoring (error_type) group_left sum(rate(b_count[1h:30s] offset 5m))',
      ),
    ).toEqual(['a_count', 'b_count']);
    expect(
      metricNames('sum(x_total) without (instance) * on(job) group_right(env) up and bool y or z unless inf'),
    ).toEqual(['x_total', 'up', 'y', 'z']);
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a placeholder
      metricNames('label_replace(m, "dst", "$1", "src", "(.*)") + 1e3 * ${var} - [[other]] # a comment q_total'),
    ).toEqual(['m']);
    expect(metricNames('rate(ns:recorded_rule:sum5m[5m]) @ end()')).toEqual(['ns:recorded_rule:sum5m']);
  });

  it('reads Grafana variable queries', () => {
    expect(templateMetricNames('label_values(flowgate_requests_total, gen_ai_request_model)')).toEqual([
      'flowgate_requests_total',
    ]);
    expect(templateMetricNames('label_values(m{a="b"}, job)')).toEqual(['m']);
    expect(templateMetricNames('label_values(job)')).toEqual([]);
    expect(templateMetricNames('query_result(topk(3, sum by (x) (rate(c_total[5m]))))')).toEqual(['c_total']);
  });

  it('finds what is passed straight to rate() and increase()', () => {
    expect(countedNames('sum(rate(a_total[5m])) / sum(increase( b_bucket [1h])) + irate(c[1m]) + d')).toEqual([
      'a_total',
      'b_bucket',
      'c',
    ]);
  });
});

describe('the Grafana dashboard against the gateway /metrics', () => {
  let gateway: ExampleGateway;
  let text = '';
  let exposition: Exposition;

  beforeAll(async () => {
    gateway = await startExampleGateway();
    await runWorkload(gateway);
    const res = await fetch(`${gateway.url}/metrics`);
    expect(res.status).toBe(200);
    text = await res.text();
    exposition = parseExposition(text);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('has Prometheus queries, each naming at least one metric', () => {
    expect(queries.length).toBeGreaterThan(30);
    for (const q of queries) {
      const names = q.template ? templateMetricNames(q.expr) : metricNames(q.expr);
      expect(names.length, `${q.where}: ${q.expr}`).toBeGreaterThan(0);
    }
  });

  it('queries only metric names that are in the exposition after the workload', () => {
    const missing: string[] = [];
    const used = new Set<string>();
    for (const q of queries) {
      for (const name of q.template ? templateMetricNames(q.expr) : metricNames(q.expr)) {
        used.add(name);
        if (!exposition.samples.has(name)) missing.push(`${name} (${q.where})`);
      }
    }
    expect(missing).toEqual([]);
    // The panels the issue asks for, by the metrics behind them.
    for (const name of [
      'gen_ai_client_operation_duration_bucket',
      'gen_ai_client_operation_time_to_first_chunk_bucket',
      'flowgate_requests_total',
      'gen_ai_client_operation_duration_count',
      'flowgate_cache_requests_total',
      'flowgate_semantic_cache_requests_total',
      'flowgate_cost_usd_total',
      'flowgate_budget_exceeded_total',
      'flowgate_router_breaker_state',
      'flowgate_router_fallbacks_total',
      'flowgate_router_retries_total',
      'flowgate_pool_connections_open',
      'v8js_gc_duration_bucket',
      'flowgate_runtime_heap_used',
      'nodejs_eventloop_delay_p99',
    ]) {
      expect(used.has(name), `the dashboard queries ${name}`).toBe(true);
    }
  });

  it('applies rate() and increase() to counters and histogram series only', () => {
    const wrong: string[] = [];
    for (const q of queries) {
      for (const name of countedNames(q.expr)) if (!isCounterLike(name, exposition)) wrong.push(`${name} (${q.where})`);
    }
    expect(wrong).toEqual([]);
  });

  it('would report a name the gateway does not expose', () => {
    const names = metricNames('sum(rate(flowgate_requests_total[5m])) / sum(rate(flowgate_no_such_metric_total[5m]))');
    expect(names.filter((n) => !exposition.samples.has(n))).toEqual(['flowgate_no_such_metric_total']);
  });

  it('shows what the workload did: fallbacks, an open breaker, a retry, cache hits, a budget refusal', () => {
    const value = (re: RegExp) =>
      text
        .split('\n')
        .filter((l) => re.test(l))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(value(/^flowgate_router_breaker_state\{[^}]*flowgate_router_deployment="flaky\/gpt-4o"/)).toBe(2);
    expect(
      value(/^flowgate_router_fallbacks_total\{[^}]*flowgate_router_fallback_from="flaky\/gpt-4o"/),
    ).toBeGreaterThan(0);
    expect(value(/^flowgate_router_retries_total\{[^}]*primary\/gpt-4o-mini/)).toBe(1);
    expect(value(/^flowgate_cache_requests_total\{[^}]*flowgate_cache_result="hit"/)).toBe(2);
    expect(value(/^flowgate_semantic_cache_requests_total\{[^}]*flowgate_semantic_cache_result="hit"/)).toBe(1);
    expect(value(/^flowgate_budget_exceeded_total\{[^}]*flowgate_budget_scope="day"/)).toBe(1);
    expect(value(/^flowgate_cost_usd_total\{[^}]*flowgate_tenant="globex"/)).toBeGreaterThan(0);
    expect(value(/^gen_ai_client_operation_duration_count\{[^}]*error_type="FLOWGATE_ERR_BUDGET_EXCEEDED"/)).toBe(1);
  });
});
