/** Shared test helpers (not a test file itself; excluded from the build). */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Parse an SSE body into events (`event:` and `data:` fields only). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    events.push({ event, data: data.join('\n') });
  }
  return events;
}

/** `data` of each event, parsed as JSON (throws on invalid JSON). */
export function jsonEvents(text: string): Record<string, unknown>[] {
  return parseSse(text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

export function post(url: string, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function chat(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-mock', messages: [{ role: 'user', content }], ...extra };
}

export function messages(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'claude-mock', max_tokens: 1000, messages: [{ role: 'user', content }], ...extra };
}

/** Poll `predicate` until it holds; rejects after `timeoutMs` (a safety net, not an assertion on time). */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RawResult {
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  error: NodeJS.ErrnoException | undefined;
}

/** A POST over node:http(s) that reports socket errors and partial bodies instead of throwing. */
export function rawPost(
  url: string,
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; ca?: string } = {},
): Promise<RawResult> {
  const target = new URL(path, url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const result: RawResult = { status: undefined, headers: {}, body: '', error: undefined };
    const req = request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        result.status = res.statusCode;
        result.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          result.body += chunk;
        });
        res.on('end', () => resolve(result));
        res.on('error', (err) => {
          result.error = err;
          resolve(result);
        });
      },
    );
    req.on('error', (err) => {
      result.error = err;
      resolve(result);
    });
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

/** Read a streamed response until `until(textSoFar)` holds; returns the text read so far. */
export async function readUntil(res: Response, until: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

/** A parsed JSON body, explored freely by the tests. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are explored freely
export type Json = any;

export async function json(res: Response): Promise<Json> {
  return res.json();
}

export async function postJson(url: string, path: string, body: unknown, init: RequestInit = {}): Promise<Json> {
  return json(await post(url, path, body, init));
}
