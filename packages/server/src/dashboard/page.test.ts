/**
 * The /dashboard page as served: headers, methods, and the document being self-contained. What the
 * page draws is tested in a real browser: test/observability/dashboard-page.test.ts.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_HTML, serveDashboard } from './page.js';

let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer(serveDashboard);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const between = (open: string, close: string): string[] =>
  [...DASHBOARD_HTML.matchAll(new RegExp(`${open}([\\s\\S]*?)${close}`, 'g'))].map((m) => m[1]!);
const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

describe('serveDashboard', () => {
  it('answers GET with the page, uncached, under a strict content security policy', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body).toBe(DASHBOARD_HTML);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(DASHBOARD_HTML));

    const csp = res.headers.get('content-security-policy')!;
    const scripts = between('<script>', '</script>');
    const styles = between('<style>', '</style>');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    // Only this exact inline script and style may run; data only from the same origin.
    expect(csp).toContain(`script-src ${hash(scripts[0]!)}`);
    expect(csp).toContain(`style-src ${hash(styles[0]!)}`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('answers HEAD with the headers only', async () => {
    const res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('');
  });

  it('refuses other methods with 405 and an OpenAI-style error', async () => {
    const res = await fetch(url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toEqual({
      error: {
        message: 'use GET on /dashboard',
        type: 'invalid_request_error',
        param: null,
        code: 'method_not_allowed',
      },
    });
  });
});

describe('DASHBOARD_HTML', () => {
  it('is self-contained: nothing is loaded from anywhere', () => {
    expect(DASHBOARD_HTML).not.toMatch(/<script[^>]+src=/i);
    expect(DASHBOARD_HTML).not.toMatch(/<link[^>]+stylesheet/i);
    expect(DASHBOARD_HTML).not.toMatch(/@import|url\(/i);
    expect(DASHBOARD_HTML).not.toMatch(/<(img|iframe|object|embed)\b/i);
    // The only absolute URL is the SVG namespace (an identifier, never fetched).
    const urls = [...DASHBOARD_HTML.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"<)]*/gi)].map((m) => m[0]);
    expect(urls).toEqual(['http://www.w3.org/2000/svg']);
    // What it fetches: its data source, on its own origin.
    expect([...DASHBOARD_HTML.matchAll(/fetch\('([^']+)'/g)].map((m) => m[1])).toEqual(['/admin/performance']);
  });

  it('has a script that parses, and every chart the tests look for', () => {
    const [script] = between('<script>', '</script>');
    expect(() => new Script(script!)).not.toThrow();
    for (const chart of ['latency', 'ttft', 'rps', 'errors', 'cache', 'cost', 'providers']) {
      expect(DASHBOARD_HTML).toContain(`data-chart="${chart}"`);
    }
  });
});
