import { ConfigError } from '@flowgate/core';
import { type Dispatcher, interceptors } from 'undici';
import { type ErrorScope, httpError, transportError } from './errors.js';

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

const decompress = interceptors.decompress({ skipErrorResponses: false });
const composed = new WeakMap<Dispatcher, Dispatcher>();

/** `dispatcher` with undici's decompress interceptor on top (gzip, br, deflate, zstd); composed once per dispatcher. */
export function decompressing(dispatcher: Dispatcher): Dispatcher {
  let d = composed.get(dispatcher);
  if (d === undefined) {
    d = dispatcher.compose(decompress);
    composed.set(dispatcher, d);
  }
  return d;
}

export type Response = Dispatcher.ResponseData;

/** Most of an error body we read to quote it; the rest is dropped with the connection. */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * POSTs `body` to `endpoint.origin + path`. Resolves with a 2xx response as soon as its headers are in (the body
 * is left unread); anything else is read (capped) and thrown as the matching typed error.
 */
export async function post(
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
  endpoint: Endpoint,
  path: string,
  body: string,
): Promise<Response> {
  let res: Response;
  try {
    res = await decompressing(dispatcher).request({
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
  const status = res.statusCode;
  if (status >= 200 && status < 300) return res;
  let text = '';
  try {
    text = await readCapped(res.body, ERROR_BODY_LIMIT);
  } catch (err) {
    // The status is what matters; a body lost on the way only costs the message. An abort still wins.
    if (signal?.aborted) throw transportError(endpoint, err, signal, 'body');
  }
  throw httpError(endpoint, status, res.headers, text);
}

/** The whole body as text; transport failures become typed errors. */
export async function readText(endpoint: ErrorScope, res: Response, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw transportError(endpoint, err, signal, 'body');
  }
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
