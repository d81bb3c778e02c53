import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The `/dashboard` page: one self-contained HTML document (inline CSS and JS, no build step, no CDN,
 * works offline) that polls `GET /admin/performance` and draws live charts with inline SVG.
 *
 * Query parameter: `?interval=ms`, the poll period (default 1500, 250..60000).
 *
 * Cost per model is the token optimizer's `costTodayByModel` (`plugins['token-optimizer']` in the
 * summary, or at the top level if the server lifts it there); without that plugin the chart says so.
 * The page reads nothing but `/admin/performance`: in particular not `/metrics`, whose every read is a
 * collection (the profiler's event-loop delay window restarts with each one, shortening the window
 * Prometheus sees).
 *
 * Stable hooks for tests and scripts: `[data-chart]` on every chart, `polyline[data-series]` with
 * `data-points`, `data-last` and `data-max`, `[data-figure]` on every figure with `data-raw` (the
 * number shown, unformatted), `[data-provider]`/`[data-health]` with `[data-provider-figure]` inside,
 * `[data-breaker]`/`[data-state]`, `[data-model]` on cost bars, and `body[data-polls]` (successful
 * polls so far).
 */

const STYLE = `
:root {
  color-scheme: dark;
  --bg: #0f1419; --card: #171e26; --line: #273241; --text: #e6edf3; --muted: #8b98a8;
  --p50: #4ade80; --p95: #facc15; --p99: #f87171; --rps: #60a5fa; --err: #f87171;
  --exact: #a78bfa; --semantic: #22d3ee; --cost: #f0b429;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px; padding: 14px 20px;
  border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 20px; letter-spacing: .02em; }
header .sub { color: var(--muted); }
header .spacer { flex: 1; }
header a { color: var(--muted); }
#status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--line); }
#status[data-status="live"] { background: #14532d; color: #bbf7d0; }
#status[data-status="offline"] { background: #7f1d1d; color: #fecaca; }
select { background: var(--card); color: var(--text); border: 1px solid var(--line); border-radius: 4px; }
main { padding: 16px 20px 24px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 14px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.tile .label { display: block; color: var(--muted); font-size: 12px; }
.tile b { display: block; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .foot { color: var(--muted); font-size: 11px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; }
figure.card { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figcaption .muted, .muted { color: var(--muted); font-weight: 400; font-size: 12px; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
svg .grid-line { stroke: var(--line); stroke-width: 1; }
svg .empty { fill: var(--muted); font-size: 13px; }
svg .bar-label { fill: var(--text); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-top: 6px; font-size: 12px; color: var(--muted); }
.legend b { color: var(--text); font-variant-numeric: tabular-nums; font-weight: 600; }
.legend i { display: inline-block; width: 10px; height: 3px; margin: 0 6px 3px 0; vertical-align: middle; border-radius: 2px; }
.c-p50 { background: var(--p50); } .c-p95 { background: var(--p95); } .c-p99 { background: var(--p99); }
.c-rps { background: var(--rps); } .c-err { background: var(--err); }
.c-exact { background: var(--exact); } .c-semantic { background: var(--semantic); }
.providers { display: grid; gap: 10px; }
.provider { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.provider .head { display: flex; gap: 10px; align-items: baseline; }
.provider .name { font-weight: 600; }
.provider .stats { display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 4px 0; color: var(--muted); font-size: 12px; }
.provider .stats b { color: var(--text); font-variant-numeric: tabular-nums; }
.badge, .chip { font-size: 11px; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); }
.badge.healthy, .chip.closed { background: #14532d; color: #bbf7d0; border-color: #166534; }
.badge.degraded, .chip.half-open { background: #713f12; color: #fef08a; border-color: #854d0e; }
.badge.down, .chip.open { background: #7f1d1d; color: #fecaca; border-color: #991b1b; }
.breakers { display: flex; flex-wrap: wrap; gap: 6px; }
.none { color: var(--muted); font-size: 12px; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var params = new URLSearchParams(location.search);
  var INTERVAL = Math.min(60000, Math.max(250, Number(params.get('interval')) || 1500));
  var HISTORY = 120;
  var COLORS = {
    p50: '#4ade80', p95: '#facc15', p99: '#f87171', rps: '#60a5fa', err: '#f87171',
    exact: '#a78bfa', semantic: '#22d3ee', cost: '#f0b429'
  };

  var samples = [];
  var prev = null;
  var operation = null;
  var polls = 0;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  // ---- formatting -------------------------------------------------------------------------
  function fmtMs(v) {
    if (!isNum(v)) return '\u2013';
    if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
    if (v >= 100) return v.toFixed(0) + ' ms';
    if (v >= 10) return v.toFixed(1) + ' ms';
    return v.toFixed(2) + ' ms';
  }
  function fmtPct(v) { return isNum(v) ? (v * 100).toFixed(1) + ' %' : '\u2013'; }
  function fmtRate(v) { return isNum(v) ? v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + '/s' : '\u2013'; }
  function fmtUsd(v) {
    if (!isNum(v)) return '\u2013';
    if (v >= 1) return '$' + v.toFixed(2);
    if (v >= 0.01) return '$' + v.toFixed(4);
    return '$' + v.toFixed(6);
  }
  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : '\u2013'; }
  /** Axis labels: as few digits as the tick needs (ticks are quarters of a round maximum). */
  function short(v) { return v === 0 ? '0' : String(Number(v.toPrecision(3))); }
  function fmtAxisMs(v) { return v >= 1000 ? short(v / 1000) + ' s' : short(v) + ' ms'; }
  function fmtAxisPct(v) { return short(v * 100) + '%'; }
  function fmtAxisRate(v) { return short(v) + '/s'; }

  /** Shows a figure: the formatted text, and the raw number in data-raw (empty when there is none). */
  function setFigure(el, value, fmt) {
    if (!el) return;
    el.textContent = fmt(value);
    el.setAttribute('data-raw', isNum(value) ? String(value) : '');
  }
  function figure(name, value, fmt) { setFigure($('[data-figure="' + name + '"]'), value, fmt); }
  function legend(chart, series, value, fmt) {
    setFigure($('[data-chart="' + chart + '"] .legend [data-series="' + series + '"] b'), value, fmt);
  }

  // ---- SVG drawing -----------------------------------------------------------------------
  function svgEl(name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  /** The smallest of 1, 2, 4, 6, 8, 10 (times a power of ten) at or above v: a quarter of it is a round tick. */
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(v)));
    var f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 4 ? 4 : f <= 6 ? 6 : f <= 8 ? 8 : 10) * e;
  }

  var W = 560, H = 180, L = 56, R = 10, T = 10, B = 22;

  /**
   * A line chart of the sample history. series: [{ key, color, values }] with one value (or null)
   * per sample; opts: { max (fixed top), min (smallest top), axis (label formatter) }.
   */
  function lineChart(chart, series, opts) {
    var svg = $('[data-chart="' + chart + '"] svg');
    clear(svg);
    var n = samples.length;
    var top = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (isNum(v) && v > top) top = v; }); });
    var max = opts.max || niceCeil(Math.max(top, opts.min || 0));
    var plotW = W - L - R, plotH = H - T - B;
    for (var i = 0; i <= 4; i++) {
      var y = T + plotH * (1 - i / 4);
      svg.appendChild(svgEl('line', { x1: L, x2: W - R, y1: y, y2: y, 'class': 'grid-line' }));
      svg.appendChild(svgEl('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, opts.axis(max * i / 4)));
    }
    var span = n > 1 ? (samples[n - 1].t - samples[0].t) / 1000 : 0;
    svg.appendChild(svgEl('text', { x: L, y: H - 5 }, n > 1 ? '\u2212' + Math.round(span) + ' s' : ''));
    svg.appendChild(svgEl('text', { x: W - R, y: H - 5, 'text-anchor': 'end' }, 'now'));
    var drawn = 0;
    series.forEach(function (s) {
      var pts = [], count = 0, last = null, peak = null, lx = 0, ly = 0;
      s.values.forEach(function (v, idx) {
        if (!isNum(v)) return;
        var x = L + (n <= 1 ? plotW : (plotW * idx) / (n - 1));
        var y = T + plotH * (1 - Math.min(v, max) / max);
        pts.push(x.toFixed(1) + ',' + y.toFixed(1));
        count++; last = v; peak = peak === null ? v : Math.max(peak, v); lx = x; ly = y;
      });
      svg.appendChild(svgEl('polyline', {
        points: pts.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round',
        'data-series': s.key, 'data-points': count, 'data-last': last === null ? '' : last, 'data-max': peak === null ? '' : peak
      }));
      if (count > 0) { svg.appendChild(svgEl('circle', { cx: lx, cy: ly, r: 3, fill: s.color })); drawn++; }
    });
    if (drawn === 0) svg.appendChild(svgEl('text', { x: L + plotW / 2, y: T + plotH / 2, 'text-anchor': 'middle', 'class': 'empty' }, 'waiting for data'));
    svg.setAttribute('data-drawn', String(drawn));
  }

  /** Horizontal bars: rows [{ label, value }], sorted by the caller. */
  function barChart(chart, rows, fmt, empty) {
    var svg = $('[data-chart="' + chart + '"] svg');
    clear(svg);
    var rowH = 26, labelW = 150, valueW = 96;
    var height = Math.max(60, rows.length * rowH + 8);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    if (rows.length === 0) {
      svg.appendChild(svgEl('text', { x: W / 2, y: 34, 'text-anchor': 'middle', 'class': 'empty' }, empty));
      svg.setAttribute('data-drawn', '0');
      return;
    }
    var max = 0;
    rows.forEach(function (r) { if (r.value > max) max = r.value; });
    rows.forEach(function (r, i) {
      var y = 4 + i * rowH;
      var w = max > 0 ? Math.max(2, ((W - labelW - valueW) * r.value) / max) : 2;
      var g = svgEl('g', { 'data-model': r.label, 'data-raw': r.value });
      g.appendChild(svgEl('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', 'class': 'bar-label' }, r.label));
      g.appendChild(svgEl('rect', { x: labelW, y: y + 3, width: w.toFixed(1), height: rowH - 8, rx: 3, fill: COLORS.cost }));
      g.appendChild(svgEl('text', { x: labelW + w + 6, y: y + 16 }, fmt(r.value)));
      svg.appendChild(g);
    });
    svg.setAttribute('data-drawn', String(rows.length));
  }

  // ---- data ------------------------------------------------------------------------------
  function errorCount(byStatus) {
    var n = 0;
    for (var k in byStatus) if (k.charAt(0) === '4' || k.charAt(0) === '5') n += byStatus[k] || 0;
    return n;
  }

  /** The token optimizer's summary: cost today, per model, and the (UTC) day it covers. */
  function costOf(s) {
    var to = s.plugins && s.plugins['token-optimizer'];
    var byModel = s.costTodayByModel || (to && to.costTodayByModel);
    return {
      installed: !!to,
      byModel: byModel && typeof byModel === 'object' ? byModel : null,
      day: (to && typeof to.day === 'string' && to.day) || ''
    };
  }

  function drawCost(summary) {
    var c = costOf(summary);
    var rows = [];
    var m = c.byModel || {};
    for (var k in m) if (isNum(m[k])) rows.push({ label: k, value: m[k] });
    rows.sort(function (a, b) { return b.value - a.value || (a.label < b.label ? -1 : 1); });
    barChart('cost', rows.slice(0, 12), fmtUsd, c.installed ? 'no cost recorded today' : 'no token optimizer installed');
    $('[data-cost-source]').textContent = c.byModel ? 'today' + (c.day ? ' (UTC day ' + c.day + ')' : '') : '';
    figure('costToday', summary.costTodayUsd, fmtUsd);
  }

  // ---- providers -------------------------------------------------------------------------
  function drawProviders(providers) {
    var box = $('[data-chart="providers"] .providers');
    clear(box);
    var ids = Object.keys(providers || {});
    if (ids.length === 0) {
      var none = document.createElement('div');
      none.className = 'none';
      none.textContent = 'no providers';
      box.appendChild(none);
    }
    ids.forEach(function (id) {
      var p = providers[id];
      var card = document.createElement('div');
      card.className = 'provider';
      card.setAttribute('data-provider', id);
      card.setAttribute('data-health', p.health);
      var head = document.createElement('div');
      head.className = 'head';
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = id;
      var sys = document.createElement('span');
      sys.className = 'muted';
      sys.textContent = p.system;
      var badge = document.createElement('span');
      badge.className = 'badge ' + p.health;
      badge.textContent = p.health;
      head.appendChild(name); head.appendChild(sys); head.appendChild(badge);
      card.appendChild(head);
      var stats = document.createElement('div');
      stats.className = 'stats';
      var lat = p.latencyMs && p.latencyMs.count > 0 ? p.latencyMs : null;
      var ttft = p.timeToFirstChunkMs && p.timeToFirstChunkMs.count > 0 ? p.timeToFirstChunkMs : null;
      [['requests', p.requests, fmtInt], ['errors', p.errors, fmtInt], ['errorRate', p.errorRate, fmtPct],
        ['p50', lat && lat.p50, fmtMs], ['p95', lat && lat.p95, fmtMs], ['p99', lat && lat.p99, fmtMs],
        ['ttft.p50', ttft && ttft.p50, fmtMs]].forEach(function (f) {
        var span = document.createElement('span');
        span.appendChild(document.createTextNode(f[0].replace('errorRate', 'error rate').replace('ttft.', 'TTFT ') + ' '));
        var b = document.createElement('b');
        b.setAttribute('data-provider-figure', f[0]);
        setFigure(b, f[1], f[2]);
        span.appendChild(b);
        stats.appendChild(span);
      });
      card.appendChild(stats);
      var br = document.createElement('div');
      br.className = 'breakers';
      var keys = p.breakers ? Object.keys(p.breakers) : [];
      if (!p.breakers) {
        br.className = 'none';
        br.textContent = 'no circuit breakers (router plugin not installed)';
      }
      keys.sort().forEach(function (key) {
        var state = String(p.breakers[key]);
        var chip = document.createElement('span');
        chip.className = 'chip ' + (state === 'halfOpen' ? 'half-open' : state);
        chip.setAttribute('data-breaker', key);
        chip.setAttribute('data-state', state);
        chip.textContent = key + ': ' + state;
        br.appendChild(chip);
      });
      card.appendChild(br);
      box.appendChild(card);
    });
  }

  // ---- one poll --------------------------------------------------------------------------
  function operations(summary) {
    var ops = Object.keys(summary.latency || {});
    var sel = $('#operation');
    if (sel.options.length !== ops.length || ops.some(function (o, i) { return sel.options[i].value !== o; })) {
      clear(sel);
      ops.forEach(function (o) { var opt = document.createElement('option'); opt.value = o; opt.textContent = o; sel.appendChild(opt); });
    }
    if (!operation || ops.indexOf(operation) < 0) operation = ops.indexOf('chat') >= 0 ? 'chat' : ops[0] || null;
    if (operation) sel.value = operation;
  }

  function update(summary) {
    var t = Date.parse(summary.generatedAt);
    if (!isFinite(t)) t = Date.now();
    var req = summary.requests || {};
    var errs = errorCount(req.todayByStatus || {});
    var rps = null, errps = null;
    if (prev && t > prev.t) {
      var dt = (t - prev.t) / 1000;
      if (req.total >= prev.total) rps = (req.total - prev.total) / dt;
      if (req.today >= prev.today && errs >= prev.errs) errps = (errs - prev.errs) / dt;
    }
    prev = { t: t, total: req.total, today: req.today, errs: errs };
    operations(summary);
    var op = operation ? summary.latency[operation] : null;
    var lat = op && op.latencyMs && op.latencyMs.count > 0 ? op.latencyMs : null;
    var ttft = op && op.timeToFirstChunkMs && op.timeToFirstChunkMs.count > 0 ? op.timeToFirstChunkMs : null;
    samples.push({
      t: t, rps: rps, errps: errps, errorRate: summary.errorRate,
      hit: summary.cacheHitRate, semantic: summary.semanticCacheHitRate,
      lat: lat ? { p50: lat.p50, p95: lat.p95, p99: lat.p99 } : null,
      ttft: ttft ? { p50: ttft.p50, p95: ttft.p95, p99: ttft.p99 } : null
    });
    if (samples.length > HISTORY) samples.shift();
    var col = function (f) { return samples.map(f); };

    figure('requests.today', req.today, fmtInt);
    figure('requests.total', req.total, fmtInt);
    figure('requests.inFlight', req.inFlight, fmtInt);
    figure('requests.shed', req.shed, fmtInt);
    figure('rps', rps, fmtRate);
    figure('latency.p50', lat && lat.p50, fmtMs);
    figure('latency.p95', lat && lat.p95, fmtMs);
    figure('latency.p99', lat && lat.p99, fmtMs);
    figure('ttft.p50', ttft && ttft.p50, fmtMs);
    figure('errorRate', summary.errorRate, fmtPct);
    figure('cacheHitRate', summary.cacheHitRate, fmtPct);
    figure('semanticCacheHitRate', summary.semanticCacheHitRate, fmtPct);
    document.querySelectorAll('[data-window]').forEach(function (e) { e.textContent = String(summary.windowSeconds); });
    document.querySelectorAll('[data-operation-name]').forEach(function (e) { e.textContent = operation || '\u2013'; });

    ['p50', 'p95', 'p99'].forEach(function (k) {
      legend('latency', k, lat && lat[k], fmtMs);
      legend('ttft', k, ttft && ttft[k], fmtMs);
    });
    lineChart('latency', ['p50', 'p95', 'p99'].map(function (k) {
      return { key: k, color: COLORS[k], values: col(function (s) { return s.lat ? s.lat[k] : null; }) };
    }), { min: 1, axis: fmtAxisMs });
    lineChart('ttft', ['p50', 'p95', 'p99'].map(function (k) {
      return { key: k, color: COLORS[k], values: col(function (s) { return s.ttft ? s.ttft[k] : null; }) };
    }), { min: 1, axis: fmtAxisMs });

    legend('rps', 'rps', rps, fmtRate);
    lineChart('rps', [{ key: 'rps', color: COLORS.rps, values: col(function (s) { return s.rps; }) }], { min: 1, axis: fmtAxisRate });

    legend('errors', 'errps', errps, fmtRate);
    legend('errors', 'errorRate', summary.errorRate, fmtPct);
    var classes = req.todayByStatus || {};
    $('[data-chart="errors"] [data-status-classes]').textContent = Object.keys(classes).sort().map(function (k) {
      return k + ' ' + fmtInt(classes[k]);
    }).join(' \u00b7 ') || '\u2013';
    lineChart('errors', [{ key: 'errps', color: COLORS.err, values: col(function (s) { return s.errps; }) }], { min: 1, axis: fmtAxisRate });

    legend('cache', 'exact', summary.cacheHitRate, fmtPct);
    legend('cache', 'semantic', summary.semanticCacheHitRate, fmtPct);
    lineChart('cache', [
      { key: 'exact', color: COLORS.exact, values: col(function (s) { return s.hit; }) },
      { key: 'semantic', color: COLORS.semantic, values: col(function (s) { return s.semantic; }) }
    ], { max: 1, axis: fmtAxisPct });

    drawProviders(summary.providers);
    drawCost(summary);

    $('[data-figure="uptime"]').textContent = isNum(summary.uptimeSeconds) ? Math.round(summary.uptimeSeconds) + ' s' : '\u2013';
    $('[data-figure="updated"]').textContent = new Date(t).toLocaleTimeString();
  }

  function setStatus(state, text) {
    var s = $('#status');
    s.setAttribute('data-status', state);
    s.textContent = text;
  }

  function poll() {
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, Math.max(5000, INTERVAL * 2)) : 0;
    fetch('/admin/performance', { cache: 'no-store', signal: ctrl ? ctrl.signal : undefined })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (summary) {
        update(summary);
        polls++;
        document.body.setAttribute('data-polls', String(polls));
        setStatus('live', 'live \u00b7 every ' + (INTERVAL / 1000) + ' s');
      }, function (err) {
        setStatus('offline', 'offline: ' + (err && err.message ? err.message : 'no answer') + ', retrying');
      })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, INTERVAL);
      });
  }

  $('#operation').addEventListener('change', function (e) { operation = e.target.value; });
  poll();
})();
`;

const tile = (figure: string, label: string, foot = '') =>
  `<div class="tile"><span class="label">${label}</span><b data-figure="${figure}" data-raw="">\u2013</b>` +
  `<span class="foot" data-figure-foot="${figure}">${foot}</span></div>`;

const key = (series: string, color: string, label: string) =>
  `<span data-series="${series}"><i class="c-${color}"></i>${label} <b data-raw="">\u2013</b></span>`;

const chart = (name: string, title: string, note: string, legend: string, extra = '') =>
  `<figure class="card" data-chart="${name}"><figcaption>${title} <span class="muted">${note}</span></figcaption>` +
  `<svg viewBox="0 0 560 180" role="img" aria-label="${title}"></svg><div class="legend">${legend}${extra}</div></figure>`;

const BODY = [
  '<header><h1>flowgate</h1><span class="sub">live gateway dashboard</span>',
  '<span id="status" data-status="connecting">connecting\u2026</span>',
  '<span class="muted">updated <b data-figure="updated">\u2013</b> \u00b7 up <b data-figure="uptime">\u2013</b></span>',
  '<span class="spacer"></span>',
  '<label class="muted">operation <select id="operation" data-control="operation"></select></label>',
  '<a href="/admin/performance">/admin/performance</a><a href="/metrics">/metrics</a></header>',
  '<main><section class="tiles">',
  tile('requests.today', 'Requests today', 'model calls since midnight'),
  tile('rps', 'Requests / s', 'between the last two polls'),
  tile('latency.p50', 'Latency p50', 'sliding window'),
  tile('latency.p95', 'Latency p95', 'sliding window'),
  tile('latency.p99', 'Latency p99', 'sliding window'),
  tile('ttft.p50', 'Time to first token p50', 'streamed calls'),
  tile('errorRate', 'Error rate', 'sliding window'),
  tile('cacheHitRate', 'Cache hit rate', 'exact cache'),
  tile('semanticCacheHitRate', 'Semantic hit rate', 'semantic cache'),
  tile('costToday', 'Cost today', 'token optimizer, UTC day'),
  tile('requests.inFlight', 'In flight', 'model calls now'),
  tile('requests.total', 'Requests total', 'since start'),
  tile('requests.shed', 'Shed (429)', 'concurrency limit'),
  '</section><section class="grid">',
  chart(
    'latency',
    'Latency',
    'percentiles of <span data-operation-name>chat</span> over the last <span data-window>60</span> s',
    key('p50', 'p50', 'p50') + key('p95', 'p95', 'p95') + key('p99', 'p99', 'p99'),
  ),
  chart(
    'ttft',
    'Time to first token',
    'streamed <span data-operation-name>chat</span> calls, last <span data-window>60</span> s',
    key('p50', 'p50', 'p50') + key('p95', 'p95', 'p95') + key('p99', 'p99', 'p99'),
  ),
  chart('rps', 'Requests per second', 'model calls answered, from successive counts', key('rps', 'rps', 'now')),
  chart(
    'errors',
    'Errors',
    '4xx and 5xx answers per second',
    key('errps', 'err', 'errors/s') + key('errorRate', 'err', 'error rate (window)'),
    '<span>today by status: <b data-status-classes>\u2013</b></span>',
  ),
  chart(
    'cache',
    'Cache hit rate',
    'exact and semantic, as reported by the cache plugins',
    key('exact', 'exact', 'exact') + key('semantic', 'semantic', 'semantic'),
  ),
  '<figure class="card" data-chart="cost"><figcaption>Cost per model <span class="muted" data-cost-source></span></figcaption>',
  '<svg viewBox="0 0 560 60" role="img" aria-label="Cost per model"></svg></figure>',
  '<figure class="card" data-chart="providers"><figcaption>Providers <span class="muted">health and circuit breakers, last <span data-window>60</span> s</span></figcaption>',
  '<div class="providers"></div></figure>',
  '</section></main>',
].join('\n');

/** The dashboard document, complete. */
export const DASHBOARD_HTML: string = [
  '<!doctype html>',
  '<html lang="en"><head><meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  '<title>flowgate dashboard</title>',
  '<link rel="icon" href="data:,">',
  `<style>${STYLE}</style>`,
  '</head><body data-polls="0">',
  BODY,
  `<script>${SCRIPT}</script>`,
  '</body></html>',
].join('\n');

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/**
 * Only this page's own inline script and style run, and it may only talk to its own origin:
 * nothing is loaded from anywhere else.
 */
const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const BODY_BYTES = Buffer.from(DASHBOARD_HTML, 'utf8');

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-length': BODY_BYTES.length,
  'cache-control': 'no-store',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * `GET /dashboard` (and HEAD): the page, never cached. Other methods get 405 with an OpenAI-style
 * error body, like the server's other routes.
 */
export function serveDashboard(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = JSON.stringify({
      error: {
        message: 'use GET on /dashboard',
        type: 'invalid_request_error',
        param: null,
        code: 'method_not_allowed',
      },
    });
    res.writeHead(405, {
      allow: 'GET, HEAD',
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  res.writeHead(200, HEADERS);
  if (req.method === 'HEAD') res.end();
  else res.end(BODY_BYTES);
}
