/**
 * 10,000 generated malformed requests (broken JSON, wrong types, missing fields, invalid UTF-8,
 * oversized bodies, unknown models) all get a 4xx with an OpenAI error body, never a 5xx, and the
 * server keeps serving. Sent as raw HTTP over one keep-alive undici Agent, many in parallel.
 */

import { Readable } from 'node:stream';
import type { MockProvider } from '@flowgate/mock-provider';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_KEY, startTestServer, startUpstream } from './server.test-util.js';
import type { RunningServer } from './start.js';

const RUNS = Number(process.env.FLOWGATE_FUZZ_RUNS ?? 10_000);
const PARALLEL = 32;
const LIMIT = 32 * 1024;

let mock: MockProvider;
let server: RunningServer;
let agent: Agent;

beforeAll(async () => {
  mock = await startUpstream();
  server = await startTestServer(mock, {
    providers: [
      {
        id: 'mock',
        type: 'openai',
        baseURL: `${mock.url}/v1`,
        apiKeyEnv: 'TEST_UPSTREAM_KEY',
        models: ['gpt-4o-mini', 'text-embedding-3-small'],
      },
    ],
    limits: { maxBodyBytes: LIMIT },
  });
  agent = new Agent({ connections: PARALLEL, keepAliveTimeout: 30_000 });
});
afterAll(async () => {
  await agent.close();
  await server.close();
  await mock.close();
});

type Json = Record<string, unknown>;
interface Case {
  kind: string;
  path: string;
  body: string | Buffer;
  /** Send without content-length (chunked). */
  chunked?: boolean;
}

const CHAT = '/v1/chat/completions';
const EMBED = '/v1/embeddings';
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'];

const validChat = (): Json => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
});

/** Values that are not of the named type. */
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.object());
const notBoolean = fc.oneof(fc.integer(), fc.string(), fc.array(fc.boolean()), fc.object());
const notArray = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.object());
const notObject = fc.oneof(fc.integer(), fc.string({ minLength: 1 }), fc.boolean(), fc.array(fc.integer()));

type Mutation = [string, (r: Json) => void];
const setTop =
  (field: string) =>
  (v: unknown): Mutation => [
    field,
    (r) => {
      r[field] = v;
    },
  ];
const setMessage =
  (field: string) =>
  (v: unknown): Mutation => [
    field,
    (r) => {
      (r.messages as Json[])[1]![field] = v;
    },
  ];

/** Each entry sets one field of a valid chat request to a value the validator must refuse. */
const wrongChatField: fc.Arbitrary<Mutation> = fc.oneof(
  fc.oneof(notString, fc.constant('')).map(setTop('model')),
  fc
    .oneof(
      notArray,
      fc.constant([]),
      fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { minLength: 1 }),
    )
    .map(setTop('messages')),
  fc
    .oneof(
      fc.string().filter((s) => !ROLES.includes(s)),
      notString,
    )
    .map(setMessage('role')),
  fc
    .oneof(
      fc.integer(),
      fc.boolean(),
      fc.object(),
      fc.constant(null),
      fc.constant([{ type: 'audio', data: 'x' }]),
      fc.constant([{ type: 'text', text: 5 }]),
    )
    .map(setMessage('content')),
  fc
    .oneof(fc.string(), fc.boolean(), fc.integer({ min: 3, max: 1e6 }), fc.integer({ min: -1e6, max: -1 }))
    .map(setTop('temperature')),
  fc.oneof(fc.string(), fc.integer({ min: 2, max: 1e9 })).map(setTop('top_p')),
  fc.oneof(fc.integer({ min: -1e9, max: 0 }), fc.constant(1.5), fc.string()).map(setTop('max_tokens')),
  fc.oneof(fc.integer({ min: 129, max: 1e9 }), fc.constant(0), fc.string()).map(setTop('n')),
  notBoolean.map(setTop('stream')),
  fc.oneof(fc.integer(), fc.array(fc.integer(), { minLength: 1 }), fc.object()).map(setTop('stop')),
  fc
    .oneof(
      notArray,
      fc.constant([{ type: 'retrieval' }]),
      fc.constant([{ type: 'function', function: {} }]),
      fc.constant([{ type: 'function', function: { name: 'f', parameters: 'none' } }]),
    )
    .map(setTop('tools')),
  fc
    .oneof(
      fc.string().filter((s) => !['none', 'auto', 'required'].includes(s)),
      fc.constant({ type: 'function' }),
    )
    .map(setTop('tool_choice')),
  fc.oneof(fc.string(), fc.constant({ type: 'xml' })).map(setTop('response_format')),
  fc.oneof(fc.constant(1.5), fc.string()).map(setTop('seed')),
  fc.oneof(fc.integer({ min: 3, max: 1000 }), fc.integer({ min: -1000, max: -3 })).map(setTop('presence_penalty')),
  fc.oneof(fc.integer(), fc.boolean(), fc.object()).map(setTop('user')),
  notObject.map(setTop('stream_options')),
  notBoolean.map(setTop('parallel_tool_calls')),
);

const missingChatField: fc.Arbitrary<Mutation> = fc.constantFrom<Mutation>(
  ['no model', (r) => delete r.model],
  ['no messages', (r) => delete r.messages],
  ['no role', (r) => delete (r.messages as Json[])[1]!.role],
  ['no user content', (r) => delete (r.messages as Json[])[1]!.content],
  [
    'tool message without tool_call_id',
    (r) => {
      r.messages = [{ role: 'tool', content: 'result' }];
    },
  ],
  [
    'tool call without id',
    (r) => {
      r.messages = [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'f' } }] },
      ];
    },
  ],
);

/** A chat request with one wrong or missing field, sometimes streamed (the error must come before any SSE). */
const invalidChat: fc.Arbitrary<Case> = fc
  .tuple(fc.oneof(wrongChatField, missingChatField), fc.boolean())
  .map(([[what, mutate], stream]) => {
    const r = validChat();
    if (stream && what !== 'stream') r.stream = true;
    mutate(r);
    return { kind: `chat: ${what}`, path: CHAT, body: JSON.stringify(r) };
  });

const validJsonText = JSON.stringify(validChat());

const brokenJson: fc.Arbitrary<Case> = fc.oneof(
  // Every proper prefix of a serialized object is invalid JSON.
  fc
    .integer({ min: 0, max: validJsonText.length - 1 })
    .map((n) => ({ kind: 'json: truncated', path: CHAT, body: validJsonText.slice(0, n) })),
  fc
    .tuple(
      fc.string().filter((s) => {
        try {
          const v: unknown = JSON.parse(s);
          return v === null || typeof v !== 'object' || Array.isArray(v);
        } catch {
          return true;
        }
      }),
      fc.constantFrom(CHAT, EMBED),
    )
    .map(([s, path]) => ({ kind: 'json: random text', path, body: s })),
  fc
    .oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.anything()), fc.boolean())
    .map((v) => ({ kind: 'json: not an object', path: CHAT, body: JSON.stringify(v) ?? 'undefined' })),
  fc.constantFrom(
    { kind: 'json: trailing comma', path: CHAT, body: '{"model":"gpt-4o-mini","messages":[],}' },
    { kind: 'json: single quotes', path: CHAT, body: "{'model':'gpt-4o-mini'}" },
    { kind: 'json: two objects', path: CHAT, body: `${validJsonText}${validJsonText}` },
    { kind: 'json: empty body', path: CHAT, body: '' },
    { kind: 'json: NaN', path: CHAT, body: '{"model":"gpt-4o-mini","temperature":NaN,"messages":[]}' },
  ),
);

const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc3, 0x28],
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
].map((b) => Buffer.from(b));

const invalidUtf8: fc.Arbitrary<Case> = fc
  .tuple(fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 20 }), fc.constantFrom(CHAT, EMBED))
  .map(([bad, text, path]) => {
    // Otherwise valid requests: only the bytes are wrong.
    const [before, after] =
      path === CHAT
        ? ['{"model":"gpt-4o-mini","messages":[{"role":"user","content":"', '"}]}']
        : ['{"model":"text-embedding-3-small","input":"', '"}'];
    const safe = JSON.stringify(text).slice(1, -1);
    return {
      kind: 'utf-8: invalid bytes',
      path,
      body: Buffer.concat([Buffer.from(before + safe), bad, Buffer.from(after)]),
    };
  });

const huge: fc.Arbitrary<Case> = fc
  .tuple(fc.integer({ min: LIMIT + 1, max: LIMIT * 6 }), fc.boolean(), fc.constantFrom(CHAT, EMBED))
  .map(([size, chunked, path]) => ({
    kind: `huge: ${chunked ? 'chunked' : 'content-length'}`,
    path,
    chunked,
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(size) }] }),
  }));

const invalidEmbeddings: fc.Arbitrary<Case> = fc
  .constantFrom<[string, Json]>(
    ['no model', { input: 'hi' }],
    ['empty model', { model: '', input: 'hi' }],
    ['no input', { model: 'text-embedding-3-small' }],
    ['input number', { model: 'text-embedding-3-small', input: 5 }],
    ['input empty array', { model: 'text-embedding-3-small', input: [] }],
    ['input mixed', { model: 'text-embedding-3-small', input: ['a', 3] }],
    ['dimensions zero', { model: 'text-embedding-3-small', input: 'hi', dimensions: 0 }],
    ['dimensions text', { model: 'text-embedding-3-small', input: 'hi', dimensions: 'many' }],
    ['encoding hex', { model: 'text-embedding-3-small', input: 'hi', encoding_format: 'hex' }],
    ['unknown model', { model: 'no-such-embedder', input: 'hi' }],
  )
  .map(([what, body]) => ({ kind: `embeddings: ${what}`, path: EMBED, body: JSON.stringify(body) }));

const unknownModel: fc.Arbitrary<Case> = fc
  .string({ minLength: 1, maxLength: 40 })
  .filter((m) => m !== 'gpt-4o-mini' && m !== 'text-embedding-3-small')
  .map((model) => ({ kind: 'chat: unknown model', path: CHAT, body: JSON.stringify({ ...validChat(), model }) }));

const malformed: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: invalidChat, weight: 8 },
  { arbitrary: brokenJson, weight: 4 },
  { arbitrary: invalidUtf8, weight: 2 },
  { arbitrary: invalidEmbeddings, weight: 2 },
  { arbitrary: unknownModel, weight: 1 },
  { arbitrary: huge, weight: 1 },
);

async function* chunks(body: string | Buffer): AsyncGenerator<Buffer> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  for (let i = 0; i < buf.length; i += 16 * 1024) yield buf.subarray(i, i + 16 * 1024);
}

async function send(c: Case): Promise<{ status: number; type: string | undefined; text: string }> {
  const res = await request(`${server.url}${c.path}`, {
    dispatcher: agent,
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
    body: c.chunked ? Readable.from(chunks(c.body)) : c.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, type: res.headers['content-type'] as string | undefined, text };
}

describe('malformed requests', () => {
  it(`answers ${RUNS} generated malformed requests with 4xx JSON errors and keeps serving`, async () => {
    const cases = fc.sample(malformed, { numRuns: RUNS, seed: 20261128 });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const kinds = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        kinds.add(c.kind.split(':')[0]!);
        let r: Awaited<ReturnType<typeof send>>;
        try {
          r = await send(c);
        } catch (err) {
          failures.push(`${c.kind}: transport error ${(err as Error).message}`);
          continue;
        }
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        let ok = r.status >= 400 && r.status < 500 && r.type === 'application/json';
        if (ok) {
          try {
            const e = (JSON.parse(r.text) as { error?: { message?: unknown; type?: unknown } }).error;
            ok = typeof e?.message === 'string' && typeof e.type === 'string';
          } catch {
            ok = false;
          }
        }
        if (!ok && failures.length < 20) {
          const shown = Buffer.isBuffer(c.body) ? c.body.toString('latin1') : c.body;
          failures.push(`${c.kind}: ${r.status} ${r.text.slice(0, 200)} <- ${shown.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    expect(kinds).toEqual(new Set(['chat', 'json', 'utf-8', 'embeddings', 'huge']));
    // 400s dominate, with 404 (unknown models) and 413 (huge bodies) among them.
    expect(statuses.get(400)).toBeGreaterThan(RUNS / 2);
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(statuses.get(413)).toBeGreaterThan(0);
    // Nothing malformed reached the upstream.
    expect(mock.stats().requests).toBe(0);

    // Still serving: a valid request succeeds on the same agent.
    const ok = await request(`${server.url}${CHAT}`, {
      dispatcher: agent,
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: validJsonText,
    });
    expect(ok.statusCode).toBe(200);
    expect(((await ok.body.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  it('answers unparseable HTTP with 400 and keeps serving', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'),
      );
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
      });
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw).toContain('"type":"invalid_request_error"');
    const health = await request(`${server.url}/healthz`, { dispatcher: agent });
    expect(health.statusCode).toBe(200);
    await health.body.text();
  });
});
