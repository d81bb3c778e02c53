#!/usr/bin/env node
/**
 * Steady traffic for the observability example, so that every panel has something to show: two
 * tenants, the `smart` alias (whose first deployment is flaky: fallbacks, breaker), the `fast` alias,
 * the `batch` alias (on the flaky upstream alone: retries), streamed and whole answers, repeated
 * questions (exact cache hits), paraphrases (semantic hits) and, now and then, a call over the
 * `globex` tenant's tiny budget (refused with 429).
 *
 *   node examples/observability/load.mjs [--url http://127.0.0.1:8080] [--rps 4] [--seconds 0]
 *
 * Reads the tenants' keys from FLOWGATE_KEY_ACME and FLOWGATE_KEY_GLOBEX. Ctrl+C stops it.
 * No dependencies: Node's fetch only.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.FLOWGATE_URL ?? 'http://127.0.0.1:8080' },
    rps: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '0' },
  },
});
const base = values.url.replace(/\/+$/, '');
const rps = Math.max(0.1, Number(values.rps));
const seconds = Number(values.seconds);
const keys = { acme: process.env.FLOWGATE_KEY_ACME, globex: process.env.FLOWGATE_KEY_GLOBEX };
if (!keys.acme || !keys.globex) {
  console.error('load.mjs: set FLOWGATE_KEY_ACME and FLOWGATE_KEY_GLOBEX (the keys flowgate.config.json expects)');
  process.exit(2);
}

// Questions asked again and again (exact hits), each with a paraphrase (semantic hits).
const faq = [
  ['How do hurricanes form?', 'What causes hurricanes to form?'],
  ['Does it snow in Rome in winter?', 'Does Rome get snow in the winter?'],
  ['What is a circuit breaker in software?', 'Explain the circuit breaker pattern in software.'],
  ['How does connection pooling work?', 'Explain how connection pooling works.'],
  ['Why does it rain?', 'What causes rain?'],
];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
let n = 0;

/** One call, as a client would make it; resolves with the HTTP status (a stream is read to its end). */
async function call(tenant, model, content, { stream = false, maxTokens } = {}) {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[tenant]}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      stream,
      messages: [{ role: 'user', content }],
      ...(maxTokens ? { max_tokens: maxTokens } : {}),
    }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The mix: mostly `smart` and `fast` for acme, some globex, a few paraphrases and fresh questions. */
function nextCall() {
  n++;
  const r = Math.random();
  const [question, paraphrase] = pick(faq);
  if (r < 0.35) return call('acme', 'smart', question, { stream: true });
  if (r < 0.55) return call('acme', 'fast', question);
  if (r < 0.7) return call('acme', 'fast', paraphrase, { stream: true });
  if (r < 0.78) return call('acme', 'smart', `Write a haiku about request number ${n}`, { stream: true });
  if (r < 0.86) return call('acme', 'batch', `Classify document ${n % 200}`);
  if (r < 0.97) return call('globex', 'fast', `Summarize ticket ${n % 50}`, { stream: true });
  // Estimated above globex's $0.01 daily budget: refused before anything is sent.
  return call('globex', 'smart', 'Write a long report on our cloud costs', { maxTokens: 2000 });
}

const counts = { sent: 0, '2xx': 0, '4xx': 0, '5xx': 0, failed: 0 };
const started = Date.now();
let stopping = false;
process.once('SIGINT', () => {
  stopping = true;
});

const status = () =>
  process.stderr.write(
    `\rload: ${counts.sent} sent, ${counts['2xx']} ok, ${counts['4xx']} 4xx, ${counts['5xx']} 5xx, ${counts.failed} failed  `,
  );
const ticker = setInterval(status, 1000);
const inFlight = new Set();

while (!stopping && !(seconds > 0 && Date.now() - started >= seconds * 1000)) {
  counts.sent++;
  const p = nextCall().then(
    (s) => {
      counts[s >= 500 ? '5xx' : s >= 400 ? '4xx' : '2xx']++;
    },
    (err) => {
      counts.failed++;
      if (counts.failed === 1)
        console.error(`\nload.mjs: ${err.cause?.message ?? err.message} (is the gateway on ${base}?)`);
    },
  );
  inFlight.add(p);
  p.finally(() => inFlight.delete(p));
  await new Promise((resolve) => setTimeout(resolve, 1000 / rps));
}
await Promise.allSettled(inFlight);
clearInterval(ticker);
status();
process.stderr.write('\n');
