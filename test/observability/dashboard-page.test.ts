/**
 * /dashboard in headless Chromium (Debian's chromium package, driven by playwright-core): the
 * example gateway's server, after a workload, serves the page; it polls /admin/performance while
 * more traffic runs, and what it draws is compared with the JSON the server answers. A screenshot
 * goes to test/artifacts/dashboard.png (not committed); with FLOWGATE_UPDATE_SCREENSHOT=1, or when
 * it is missing, it is also copied to examples/observability/dashboard.png for the README. Without
 * Chromium the test says it skips; with FLOWGATE_REQUIRE_CHROMIUM=1 (CI) it fails instead.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, EXAMPLE_DIR, type ExampleGateway, runWorkload, startExampleGateway } from './gateway.test-util.js';

const CHROMIUM = process.env.FLOWGATE_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const requireChromium = process.env.FLOWGATE_REQUIRE_CHROMIUM === '1';
if (!haveChromium && !requireChromium) {
  console.warn(
    `[dashboard-page.test] SKIPPED: no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set FLOWGATE_CHROMIUM)`,
  );
}

// CI sets FLOWGATE_REQUIRE_CHROMIUM=1, so that a missing browser fails the file instead of skipping.
if (!haveChromium && requireChromium) {
  throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set FLOWGATE_CHROMIUM`);
}

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const SCREENSHOT = `${ARTIFACTS}dashboard.png`;
const README_SCREENSHOT = `${EXAMPLE_DIR}dashboard.png`;

interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}
interface Summary {
  generatedAt: string;
  uptimeSeconds: number;
  requests: { today: number; total: number; inFlight: number; todayByStatus: Record<string, number> };
  latency: Record<string, { latencyMs: Stats; timeToFirstChunkMs: Stats }>;
  errorRate: number;
  cacheHitRate: number | null;
  semanticCacheHitRate: number | null;
  costTodayUsd: number | null;
  plugins: Record<string, { costTodayByModel: Record<string, number>; day: string } | null>;
  providers: Record<string, { requests: number; health: string; breakers: Record<string, string> | null }>;
}

/** The part of the browser's DOM used in page functions (this file is type-checked without lib.dom). */
interface InBrowser {
  document: { body: { getAttribute(name: string): string | null } };
}

/**
 * Waits until the page has polled `n` times (it counts its successful polls in `body[data-polls]`).
 * A function, not a string: the page's content security policy forbids eval.
 */
const pollsAtLeast = (page: Page, n: number) =>
  page.waitForFunction(
    (k) => Number((globalThis as unknown as InBrowser).document.body.getAttribute('data-polls')) >= k,
    n,
  );

/** The number a figure shows, read back from its text ("12.3 ms", "1.20 s", "45.0 %", "$0.0012", "3/s"). */
function shown(text: string): number {
  const t = text.trim();
  const n = Number.parseFloat(t.replace(/^\$/, '').replaceAll(',', ''));
  if (t.endsWith(' ms')) return n;
  if (t.endsWith(' s')) return n * 1000;
  if (t.endsWith('%')) return n / 100;
  return n;
}

/** Expects the text of a figure to show `value`, to its displayed precision. */
function expectShown(text: string | null, value: number, what: string): void {
  expect(text, what).not.toBeNull();
  const digits = /\.(\d+)/.exec(text!)?.[1]?.length ?? 0;
  const unit = text!.trim().endsWith('%') ? 100 : text!.trim().endsWith(' s') ? 1 / 1000 : 1;
  // Half a unit of the last digit shown, in the figure's own unit.
  const tolerance = 0.5 * 10 ** -digits;
  expect(Math.abs(shown(text!) * unit - value * unit), `${what}: "${text}" shows ${value}`).toBeLessThanOrEqual(
    tolerance + 1e-9,
  );
}

// Why skip: no Chromium on this machine and FLOWGATE_REQUIRE_CHROMIUM unset (see above); CI installs it and requires it.
describe.skipIf(!haveChromium)('/dashboard in headless Chromium', () => {
  let gateway: ExampleGateway;
  let url = '';
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const summary = async (): Promise<Summary> => (await (await fetch(`${url}/admin/performance`)).json()) as Summary;
  const polls = async (): Promise<number> => Number(await page.locator('body').getAttribute('data-polls'));
  const raw = (selector: string): Promise<string | null> =>
    page.locator(selector).first().getAttribute('data-raw', { timeout: 5_000 });
  const text = (selector: string): Promise<string | null> =>
    page.locator(selector).first().textContent({ timeout: 5_000 });

  /**
   * A summary the page has certainly drawn: read one, let the page poll twice, read again; when
   * both agree (nothing moved meanwhile), the page's last poll saw exactly that.
   */
  async function drawnSummary(): Promise<Summary> {
    const strip = (s: Summary) => JSON.stringify({ ...s, generatedAt: 0, uptimeSeconds: 0 });
    for (let i = 0; i < 10; i++) {
      const before = await summary();
      const n = await polls();
      await pollsAtLeast(page, n + 2);
      const after = await summary();
      if (strip(before) === strip(after)) return after;
    }
    throw new Error('the performance summary kept changing');
  }

  beforeAll(async () => {
    gateway = await startExampleGateway();
    await runWorkload(gateway);
    url = gateway.url; // the gateway server serves /dashboard itself
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('draws live charts from /admin/performance after a workload', { timeout: 90_000 }, async () => {
    const res = await page.goto(`${url}/dashboard?interval=250&cost=1000`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['cache-control']).toBe('no-store');
    await pollsAtLeast(page, 2);

    // More traffic while the page polls: requests per second and errors come from successive counts.
    for (let i = 0; i < 24; i++) {
      const status =
        i % 6 === 5
          ? await chat(url, `Write a long essay ${i}`, { tenant: 'globex', model: 'smart', maxTokens: 2000 })
          : await chat(url, `Live question ${i}`, { stream: i % 2 === 0, model: i % 3 === 0 ? 'smart' : 'fast' });
      expect(status).toBe(i % 6 === 5 ? 429 : 200);
      if (i % 3 === 2) await pollsAtLeast(page, (await polls()) + 1);
    }

    const s = await drawnSummary();
    const chat0 = s.latency.chat!;
    expect(s.requests.total).toBeGreaterThan(40);
    expect(chat0.latencyMs.count).toBeGreaterThan(0);
    expect(chat0.timeToFirstChunkMs.count).toBeGreaterThan(0);

    // Headline figures: the raw number is the JSON's, and the text shows it.
    const figures: [string, number | null][] = [
      ['requests.total', s.requests.total],
      ['requests.today', s.requests.today],
      ['requests.inFlight', s.requests.inFlight],
      ['latency.p50', chat0.latencyMs.p50],
      ['latency.p95', chat0.latencyMs.p95],
      ['latency.p99', chat0.latencyMs.p99],
      ['ttft.p50', chat0.timeToFirstChunkMs.p50],
      ['errorRate', s.errorRate],
      ['cacheHitRate', s.cacheHitRate],
      ['semanticCacheHitRate', s.semanticCacheHitRate],
    ];
    for (const [name, value] of figures) {
      expect(value, name).not.toBeNull();
      expect(Number(await raw(`[data-figure="${name}"]`)), name).toBe(value);
      expectShown(await text(`[data-figure="${name}"]`), value!, name);
    }

    // Charts: a line per series with the points polled so far, and the legend's current values.
    for (const [chart, series, value] of [
      ['latency', 'p50', chat0.latencyMs.p50],
      ['latency', 'p95', chat0.latencyMs.p95],
      ['latency', 'p99', chat0.latencyMs.p99],
      ['ttft', 'p50', chat0.timeToFirstChunkMs.p50],
      ['ttft', 'p95', chat0.timeToFirstChunkMs.p95],
      ['ttft', 'p99', chat0.timeToFirstChunkMs.p99],
      ['cache', 'exact', s.cacheHitRate],
      ['cache', 'semantic', s.semanticCacheHitRate],
    ] as const) {
      const line = page.locator(`[data-chart="${chart}"] polyline[data-series="${series}"]`);
      expect(Number(await line.getAttribute('data-points')), `${chart} ${series}`).toBeGreaterThan(5);
      expect(Number(await line.getAttribute('data-last')), `${chart} ${series}`).toBe(value);
      const key = `[data-chart="${chart}"] .legend [data-series="${series}"] b`;
      expect(Number(await raw(key)), `${chart} legend ${series}`).toBe(value);
      expectShown(await text(key), value!, `${chart} legend ${series}`);
    }
    const rps = page.locator('[data-chart="rps"] polyline[data-series="rps"]');
    expect(Number(await rps.getAttribute('data-points'))).toBeGreaterThan(5);
    expect(Number(await rps.getAttribute('data-max'))).toBeGreaterThan(0);
    const errps = page.locator('[data-chart="errors"] polyline[data-series="errps"]');
    expect(Number(await errps.getAttribute('data-max'))).toBeGreaterThan(0);
    expect(Number(await raw('[data-chart="errors"] .legend [data-series="errorRate"] b'))).toBe(s.errorRate);
    expect(await text('[data-chart="errors"] [data-status-classes]')).toBe(
      Object.keys(s.requests.todayByStatus)
        .sort()
        .map((k) => `${k} ${s.requests.todayByStatus[k]}`)
        .join(' · '),
    );
    expect(s.requests.todayByStatus['4xx']).toBeGreaterThan(0);

    // Providers: health, breaker states and counts as the JSON has them.
    for (const [id, p] of Object.entries(s.providers)) {
      const card = page.locator(`[data-chart="providers"] [data-provider="${id}"]`);
      expect(await card.getAttribute('data-health'), id).toBe(p.health);
      expect(Number(await card.locator('[data-provider-figure="requests"]').getAttribute('data-raw'))).toBe(p.requests);
      for (const [key, state] of Object.entries(p.breakers ?? {})) {
        expect(await card.locator(`[data-breaker="${key}"]`).getAttribute('data-state'), key).toBe(state);
      }
      expect(await card.locator('[data-breaker]').count()).toBe(Object.keys(p.breakers ?? {}).length);
    }
    expect(s.providers.flaky?.breakers?.['flaky/gpt-4o']).toMatch(/^(open|half-open|halfOpen)$/);
    expect(s.providers.primary?.health).toBe('healthy');

    // Cost per model: the token optimizer's spend today, as the summary has it.
    const optimizer = s.plugins['token-optimizer']!;
    const byModel = Object.entries(optimizer.costTodayByModel).sort(([a], [b]) => a.localeCompare(b));
    expect(byModel.map(([model]) => model)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    for (const [model, usd] of byModel) {
      const bar = page.locator(`[data-chart="cost"] [data-model="${model}"]`);
      expect(Number(await bar.getAttribute('data-raw')), model).toBe(usd);
      expectShown(await bar.locator('text').last().textContent(), usd, `cost of ${model}`);
    }
    expect(await page.locator('[data-chart="cost"] [data-model]').count()).toBe(byModel.length);
    expect(await text('[data-chart="cost"] [data-cost-source]')).toBe(`today (UTC day ${optimizer.day})`);
    expect(s.costTodayUsd).toBeGreaterThan(0);
    expect(Number(await raw('[data-figure="costToday"]'))).toBe(s.costTodayUsd);
    expectShown(await text('[data-figure="costToday"]'), s.costTodayUsd!, 'cost today');

    for (const chart of ['latency', 'ttft', 'rps', 'errors', 'cache', 'cost']) {
      expect(
        Number(await page.locator(`[data-chart="${chart}"] svg`).getAttribute('data-drawn')),
        chart,
      ).toBeGreaterThan(0);
    }
    expect(await page.locator('#status').getAttribute('data-status')).toBe('live');
    expect(pageErrors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    if (process.env.FLOWGATE_UPDATE_SCREENSHOT === '1' || !existsSync(README_SCREENSHOT)) {
      copyFileSync(SCREENSHOT, README_SCREENSHOT);
    }
  });

  it('says when no token optimizer reports cost', async () => {
    const other = await browser.newPage();
    try {
      // The real summary, as a gateway without the token optimizer would answer it.
      await other.route('**/admin/performance', async (route) => {
        const body = (await (await route.fetch()).json()) as Summary;
        body.plugins['token-optimizer'] = null;
        body.costTodayUsd = null;
        await route.fulfill({ json: body });
      });
      await other.goto(`${url}/dashboard?interval=250`);
      await pollsAtLeast(other, 1);
      expect(await other.locator('[data-chart="cost"] svg').getAttribute('data-drawn')).toBe('0');
      expect(await other.locator('[data-chart="cost"] svg').textContent()).toBe('no token optimizer installed');
      expect(await other.locator('[data-figure="costToday"]').textContent()).toBe('\u2013');
      // The rest of the page is drawn from the same summary.
      expect(Number(await other.locator('[data-chart="latency"] svg').getAttribute('data-drawn'))).toBe(3);
    } finally {
      // The page keeps polling: a poll caught mid-route when the page closes must not reject.
      await other.unrouteAll({ behavior: 'ignoreErrors' });
      await other.close();
    }
  });

  it('says the gateway is offline when /admin/performance stops answering, and keeps the charts', async () => {
    const offline = await browser.newPage();
    try {
      let answering = true;
      await offline.route('**/admin/performance', (route) =>
        answering ? route.continue() : route.fulfill({ status: 503, json: { error: { message: 'down' } } }),
      );
      await offline.goto(`${url}/dashboard?interval=250`);
      await pollsAtLeast(offline, 2);
      answering = false;
      await offline.locator('#status[data-status="offline"]').waitFor();
      expect(await offline.locator('#status').textContent()).toContain('HTTP 503');
      const polled = Number(await offline.locator('body').getAttribute('data-polls'));
      expect(Number(await offline.locator('[data-chart="latency"] svg').getAttribute('data-drawn'))).toBe(3);
      expect(
        Number(await offline.locator('[data-chart="latency"] polyline[data-series="p50"]').getAttribute('data-points')),
      ).toBe(polled);
      // And it comes back by itself.
      answering = true;
      await offline.locator('#status[data-status="live"]').waitFor();
    } finally {
      await offline.unrouteAll({ behavior: 'ignoreErrors' });
      await offline.close();
    }
  });
});
