import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createZstdDecompress } from 'node:zlib';
import { ConfigError } from '@flowgate/core';
import type { Dispatcher } from 'undici';
import { decodersFor } from './content-coding.js';
import { type ErrorScope, httpError, transportError } from './errors.js';
import { ERROR_BODY_LIMIT, postWhole } from './whole-answer.js';

/** Everything a provider needs to send to one upstream; built once per provider. */
export interface Endpoint extends ErrorScope {
  /** `scheme://host:port` of the base URL. */
  readonly origin: string;
  /** Path of the base URL without a trailing slash (`/v1`, or `''`). */
  readonly basePath: string;
  /** Request headers, shared by every call (never mutated). */
  readonly headers: Readonly<Record<string, string>>;
  readonly address: { host: string; port: number };
}

export interface EndpointOptions {
  providerId: string;
  baseURL: string;
  secret: string | undefined;
  /** Provider headers (auth, version); the user's `headers` option goes on top. */
  headers: Record<string, string>;
  userHeaders: Record<string, string> | undefined;
}

export function createEndpoint(options: EndpointOptions): Endpoint {
  let url: URL;
  try {
    url = new URL(options.baseURL);
  } catch {
    throw new ConfigError(`${options.providerId}: baseURL is not a valid URL: ${options.baseURL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${options.providerId}: baseURL must be http(s): ${options.baseURL}`);
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'accept-encoding': 'gzip, br',
  };
  for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
  if (options.userHeaders) {
    for (const [name, value] of Object.entries(options.userHeaders)) headers[name.toLowerCase()] = value;
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return {
    providerId: options.providerId,
    secret: options.secret,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    headers: Object.freeze(headers),
    address: { host, port },
  };
}

/** What a provider reads: status, headers, and the body already decoded from its content-encoding. */
export interface Response {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  /** undici's body, or a zlib stream over it when the server compressed the answer. */
  body: Readable;
}

const DECODERS: Readonly<Record<string, (() => Transform) | undefined>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
  zstd: () => createZstdDecompress(),
};

/**
 * Decodes a compressed body on demand. Cheaper than a decompress interceptor on every request:
 * uncompressed answers (the common case for JSON APIs on a LAN) pay one header lookup.
 */
function decoded(res: Dispatcher.ResponseData): Response {
  const makers = decodersFor(res.headers['content-encoding'], DECODERS);
  if (makers === undefined) return res;
  const streams: (Readable | Transform)[] = [res.body];
  for (const make of makers) streams.push(make());
  const body = streams.reduce((src, dst) => src.pipe(dst as Transform)) as Readable;
  // Errors of any stage surface on the last one, and destroying it tears the whole chain down.
  for (const s of streams.slice(0, -1)) {
    s.once('error', (err) => body.destroy(err));
    body.once('close', () => s.destroy());
  }
  return { statusCode: res.statusCode, headers: res.headers, body };
}

/**
 * POSTs `body` to `endpoint.origin + path` for a streamed answer. Resolves with a 2xx response as soon as its
 * headers are in (the body is left unread); anything else is read (capped) and thrown as the matching typed error.
 */
export async function post(
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
  endpoint: Endpoint,
  path: string,
  body: string,
): Promise<Response> {
  let raw: Dispatcher.ResponseData;
  try {
    raw = await dispatcher.request({
      origin: endpoint.origin,
      path,
      method: 'POST',
      headers: endpoint.headers,
      body,
      signal,
    });
  } catch (err) {
    throw transportError(endpoint, err, signal, 'request');
  }
  const res = decoded(raw);
  if (res.statusCode < 200 || res.statusCode >= 300) await failed(endpoint, res, signal);
  return res;
}

/** The whole answer (see whole-answer.ts), its text handed to `parse` with the status. */
export async function postForText<T>(
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
  endpoint: Endpoint,
  path: string,
  body: string,
  parse: (scope: ErrorScope, text: string, status: number) => T,
): Promise<T> {
  const answer = await postWhole(dispatcher, signal, endpoint, path, body);
  return parse(endpoint, answer.text, answer.statusCode);
}

/** A non-2xx answer: reads its body (capped) and throws the matching typed error. */
async function failed(endpoint: Endpoint, res: Response, signal: AbortSignal | undefined): Promise<never> {
  let text = '';
  try {
    text = await readCapped(res.body, ERROR_BODY_LIMIT);
  } catch (err) {
    // The status is what matters; a body lost on the way only costs the message. An abort still wins.
    if (signal?.aborted) throw transportError(endpoint, err, signal, 'body');
  }
  throw httpError(endpoint, res.statusCode, res.headers, text);
}

/** The whole body as text; transport failures become typed errors. */
export async function readText(endpoint: ErrorScope, res: Response, signal: AbortSignal | undefined): Promise<string> {
  try {
    const body = res.body as Readable & { text?: () => Promise<string> };
    if (typeof body.text === 'function') return await body.text();
    return await readAll(body);
  } catch (err) {
    throw transportError(endpoint, err, signal, 'body');
  }
}

async function readAll(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** Reads up to `limit` bytes; a longer body is cut and its stream destroyed. */
async function readCapped(body: Response['body'], limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = limit - size;
    if (chunk.length >= room) {
      parts.push(chunk.subarray(0, room));
      size = limit;
      break; // leaving the loop destroys the body
    }
    parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts, size).toString('utf8');
}

/** The response says it is JSON (a streamed request answered whole by a server that ignored `stream: true`). */
export function isJson(contentType: string | string[] | undefined): boolean {
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  return ct?.includes('application/json') === true;
}
