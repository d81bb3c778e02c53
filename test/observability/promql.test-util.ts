/**
 * Just enough of PromQL (and of Grafana's templating on top of it) to list the metric names a
 * dashboard queries, and of the Prometheus text exposition to list the names a gateway exposes.
 */

/** Words that are PromQL syntax, never metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
/** Keywords followed by a parenthesized list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENT_START = /[a-zA-Z_:]/;
const IDENT = /[a-zA-Z0-9_:]/;
const NUMBERISH = /[0-9a-zA-Z_.]/;

/** Index just past the string literal that starts at `i` ("...", '...' or `...`). */
function endOfString(s: string, i: number): number {
  const quote = s[i];
  let j = i + 1;
  while (j < s.length && s[j] !== quote) j += s[j] === '\\' && quote !== '`' ? 2 : 1;
  if (j >= s.length) throw new Error(`unterminated string at ${i} in: ${s}`);
  return j + 1;
}

/** Index just past the bracket group that opens at `i`, skipping strings inside. */
function endOfGroup(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '"' || c === "'" || c === '`') {
      j = endOfString(s, j);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j + 1;
    j++;
  }
  throw new Error(`unbalanced "${open}" at ${i} in: ${s}`);
}

/**
 * The metric names of a PromQL expression: identifiers that are not followed by `(` (functions and
 * aggregations), not label names (inside `{...}` matchers or `by (...)`-style lists), not keywords,
 * not inside strings, durations, numbers, range selectors or Grafana variables (`$x`, `${x}`, `[[x]]`).
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const n = expr.length;
  let i = 0;
  while (i < n) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = endOfString(expr, i);
    } else if (c === '{') {
      i = endOfGroup(expr, i, '{', '}'); // label matchers
    } else if (c === '[') {
      i = endOfGroup(expr, i, '[', ']'); // range, subquery, or a Grafana [[variable]]
    } else if (c === '#') {
      while (i < n && expr[i] !== '\n') i++; // comment
    } else if (c === '$') {
      i++;
      if (expr[i] === '{') i = endOfGroup(expr, i, '{', '}');
      else while (i < n && IDENT.test(expr[i]!)) i++;
    } else if (/[0-9.]/.test(c)) {
      while (i < n && NUMBERISH.test(expr[i]!)) i++; // number or duration (0.95, 5m, 1e3)
    } else if (IDENT_START.test(c)) {
      let j = i;
      while (j < n && IDENT.test(expr[j]!)) j++;
      const word = expr.slice(i, j);
      let k = j;
      while (k < n && /\s/.test(expr[k]!)) k++;
      const lower = word.toLowerCase();
      i = j;
      if (LABEL_LISTS.has(lower)) {
        if (expr[k] === '(') i = endOfGroup(expr, k, '(', ')');
      } else if (lower === 'offset') {
        while (i < n && /[\s-]/.test(expr[i]!)) i++;
        while (i < n && NUMBERISH.test(expr[i]!)) i++;
      } else if (KEYWORDS.has(lower) || expr[k] === '(' || /^(by|without)\s*\(/i.test(expr.slice(k))) {
        // syntax, a function, or an aggregation (`sum(...)`, `sum by (...) (...)`)
      } else {
        names.add(word);
      }
    } else {
      i++;
    }
  }
  return [...names];
}

/**
 * The metric names of a Grafana Prometheus variable query: `label_values(metric, label)`,
 * `query_result(expr)`, or a plain expression.
 */
export function templateMetricNames(query: string): string[] {
  const lv = /^\s*label_values\(\s*(.*?)\s*,\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(query);
  if (lv) return metricNames(lv[1]!);
  if (/^\s*label_values\(\s*[a-zA-Z_]\w*\s*\)\s*$/.test(query)) return [];
  const qr = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  if (qr) return metricNames(qr[1]!);
  return metricNames(query);
}

/** Functions that only make sense on counters (and histogram series). */
const COUNTER_FUNCTIONS = /\b(rate|irate|increase)\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g;

/** The metric names passed straight to `rate`, `irate` or `increase` in an expression. */
export function countedNames(expr: string): string[] {
  return [...expr.matchAll(COUNTER_FUNCTIONS)].map((m) => m[2]!);
}

export interface Exposition {
  /** Every sample name (`x_bucket`, `x_sum`, `x_count`, `y_total`, `z`...). */
  samples: Set<string>;
  /** `# TYPE` name -> type. */
  types: Map<string, string>;
}

export function parseExposition(text: string): Exposition {
  const samples = new Set<string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#') || line.trim() === '') continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (name) samples.add(name[0]);
  }
  return { samples, types };
}

/** Whether `name` is a counter sample or a histogram's `_bucket`/`_sum`/`_count` series. */
export function isCounterLike(name: string, e: Exposition): boolean {
  if (e.types.get(name) === 'counter') return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m !== null && e.types.get(m[1]!) === 'histogram';
}

/** The Prometheus expressions of a Grafana dashboard: every panel target (rows included) and variable query. */
export function dashboardQueries(dashboard: unknown): { where: string; expr: string; template: boolean }[] {
  const out: { where: string; expr: string; template: boolean }[] = [];
  const d = dashboard as {
    panels?: Panel[];
    templating?: {
      list?: { name: string; type: string; datasource?: { type?: string }; query?: string | { query?: string } }[];
    };
  };
  interface Panel {
    title?: string;
    panels?: Panel[];
    datasource?: { type?: string };
    targets?: { refId?: string; expr?: string; datasource?: { type?: string } }[];
  }
  const visit = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      visit(p.panels);
      for (const t of p.targets ?? []) {
        const type = t.datasource?.type ?? p.datasource?.type;
        if (type === 'prometheus' && typeof t.expr === 'string') {
          out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr, template: false });
        }
      }
    }
  };
  visit(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query' || v.datasource?.type !== 'prometheus') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (typeof q === 'string') out.push({ where: `variable $${v.name}`, expr: q, template: true });
  }
  return out;
}
