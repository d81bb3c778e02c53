import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ErrorAnswer, errorAnswer, errorJson, HttpError } from './errors.js';

export function sendJson(res: ServerResponse, status: number, body: string, headers?: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const h: OutgoingHttpHeaders = headers ? { ...headers } : {};
  h['content-type'] = 'application/json';
  h['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, h);
  res.end(body);
}

/** Answers with the OpenAI error body for `err`; returns the status sent. */
export function sendError(res: ServerResponse, err: unknown, extra?: OutgoingHttpHeaders): number {
  const a: ErrorAnswer = errorAnswer(err);
  sendJson(res, a.status, errorJson(a), extra ? { ...a.headers, ...extra } : a.headers);
  return a.status;
}

/**
 * Past the limit, up to this many times the limit is still read (and dropped) so that the client has
 * sent its whole body when the 413 goes out: a client still writing when the connection closes may
 * see a reset instead of the answer. Beyond it the answer goes out at once and the connection closes.
 */
const DISCARD_FACTOR = 8;

const tooLarge = (limit: number, closeConnection: boolean) =>
  new HttpError(
    413,
    'invalid_request_error',
    `the request body is larger than the limit of ${limit} bytes`,
    'request_too_large',
    null,
    closeConnection ? { connection: 'close' } : undefined,
  );

/**
 * Reads a JSON body of at most `limit` bytes. Rejects with an `HttpError`: 413 over the limit
 * (announced by content-length or counted while reading), 400 for bytes that are not UTF-8
 * (rejected, not replaced with U+FFFD, so nothing is silently altered), for text that is not JSON,
 * and for JSON that is not an object.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit * DISCARD_FACTOR) {
    req.pause();
    return Promise.reject(tooLarge(limit, true));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declared > limit;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (over || size > limit) {
        over = true;
        chunks.length = 0;
        if (size > limit * DISCARD_FACTOR) {
          req.off('data', onData);
          req.off('end', onEnd);
          req.pause();
          reject(tooLarge(limit, true));
        }
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (over) return reject(tooLarge(limit, false));
      try {
        resolve(parseJsonObject(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err);
      }
    };
    // `on`, not `once`: each `once` wraps its listener in a new closure; 'end' comes once anyway, and the
    // request object (with its listeners) is dropped after the answer.
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

export function parseJsonObject(buf: Buffer): Record<string, unknown> {
  if (buf.length === 0) {
    throw new HttpError(400, 'invalid_request_error', 'the request body is empty; send a JSON object', 'invalid_json');
  }
  if (!isUtf8(buf)) {
    throw new HttpError(400, 'invalid_request_error', 'the request body is not valid UTF-8', 'invalid_utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
    throw new HttpError(400, 'invalid_request_error', `the request body is not valid JSON${detail}`, 'invalid_json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_request_error', 'the request body must be a JSON object', 'invalid_json');
  }
  return value as Record<string, unknown>;
}

/** Resolves once the response can take more data, or once it closed (then writing is pointless). */
export function whenWritable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
