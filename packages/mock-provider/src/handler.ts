import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parseMessagesRequest } from './anthropic.js';
import { parseEmbeddingsRequest } from './embeddings.js';
import { type ErrorDetails, type ErrorFormat, errorBody } from './errors.js';
import { Exchange } from './exchange.js';
import { type ActiveFault, faultKey } from './faults.js';
import { anthropicModelList, openaiModelList } from './models.js';
import { parseChatRequest } from './openai.js';
import type { ParsedRequest, ParseResult } from './protocol.js';
import { GARBAGE_BODY, runStream, SSE_HEADERS } from './sse.js';
import type { MockState } from './state.js';
import { bump } from './stats.js';
import type { ModelBehavior } from './types.js';

type Parse = (body: unknown, state: MockState) => ParseResult;

const parseChat: Parse = (body, state) => parseChatRequest(body, state.ids);
const parseMessages: Parse = (body, state) => parseMessagesRequest(body, state.ids);
const parseEmbeddings: Parse = (body) => parseEmbeddingsRequest(body);

function sendJson(res: ServerResponse, status: number, body: string, headers?: OutgoingHttpHeaders): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  format: ErrorFormat,
  status: number,
  details?: ErrorDetails,
  headers?: OutgoingHttpHeaders,
): void {
  sendJson(res, status, errorBody(format, status, details), headers);
}

/** The request handler of a mock server. */
export function createHandler(state: MockState): (req: IncomingMessage, res: ServerResponse) => void {
  const { stats } = state;
  const bearer = state.apiKey === undefined ? undefined : `Bearer ${state.apiKey}`;

  const authorized = (req: IncomingMessage, format: ErrorFormat | 'either'): boolean => {
    if (state.apiKey === undefined) return true;
    const openai = req.headers.authorization === bearer;
    const anthropic = req.headers['x-api-key'] === state.apiKey;
    return format === 'openai' ? openai : format === 'anthropic' ? anthropic : openai || anthropic;
  };

  const respond = (
    ex: Exchange,
    format: ErrorFormat,
    parsed: ParsedRequest,
    behavior: ModelBehavior,
    fault?: ActiveFault,
  ) => {
    const { res } = ex;
    if (fault?.type === 'status') {
      const headers: OutgoingHttpHeaders = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      sendError(res, format, fault.status, { message: fault.message, code: fault.code }, headers);
      return;
    }
    if (fault?.type === 'malformed-sse') {
      res.writeHead(200, SSE_HEADERS);
      res.end(GARBAGE_BODY);
      return;
    }
    if (parsed.stream) {
      const pacing = { ttftMs: behavior.ttftMs ?? 0, tokensPerSecond: behavior.tokensPerSecond ?? 0 };
      runStream(ex, stats, parsed.plan(behavior), pacing, fault);
      return;
    }
    const body = parsed.whole(behavior);
    if (fault === undefined) {
      sendJson(res, 200, body);
      return;
    }
    const half = body.slice(0, Math.floor(body.length / 2));
    if (fault.type === 'malformed-json') {
      sendJson(res, 200, half);
    } else if (fault.type === 'truncate') {
      // Promise the whole body, send half, then close: the client sees a body cut short.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      ex.done = true;
      res.write(half, () => ex.req.socket.destroy());
    } else if (fault.type === 'stall') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(half);
    }
  };

  const post = (req: IncomingMessage, res: ServerResponse, path: string, format: ErrorFormat, parse: Parse) => {
    const ex = new Exchange(req, res, stats);
    if (!authorized(req, format)) {
      sendError(res, format, 401, format === 'anthropic' ? { message: 'invalid x-api-key' } : undefined);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        body = JSON.parse(buffer.toString('utf8'));
      } catch {
        stats.lastRequest = { method: 'POST', path, headers: req.headers, body: undefined };
        sendError(res, format, 400, { message: 'The request body is not valid JSON.' });
        return;
      }
      stats.lastRequest = { method: 'POST', path, headers: req.headers, body };
      const parsed = parse(body, state);
      if ('invalid' in parsed) {
        sendError(res, format, 400, { message: parsed.invalid });
        return;
      }
      bump(stats.byModel, parsed.model);
      const behavior = state.behaviors.get(parsed.model);
      const fault = state.pickFault(parsed.model, behavior);
      if (fault !== undefined) {
        bump(stats.faultsInjected, faultKey(fault));
        if (fault.type === 'reset') return ex.destroy();
        if (fault.type === 'hang') return; // never answer; the Exchange counts the abort when the client leaves
      }
      const latency = state.latency(behavior);
      if (latency > 0) ex.schedule(() => respond(ex, format, parsed, behavior, fault), latency);
      else respond(ex, format, parsed, behavior, fault);
    });
  };

  const listModels = (req: IncomingMessage, res: ServerResponse, path: string) => {
    stats.lastRequest = { method: 'GET', path, headers: req.headers, body: undefined };
    const format: ErrorFormat = req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
    if (!authorized(req, 'either')) return sendError(res, format, 401);
    const names = [...new Set([...state.behaviors.names(), ...Object.keys(stats.byModel)])];
    sendJson(res, 200, format === 'anthropic' ? anthropicModelList(names) : openaiModelList(names));
  };

  return (req, res) => {
    stats.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    bump(stats.byPath, path);
    if (req.method === 'POST') {
      if (path === '/v1/chat/completions') return post(req, res, path, 'openai', parseChat);
      if (path === '/v1/messages') return post(req, res, path, 'anthropic', parseMessages);
      if (path === '/v1/embeddings') return post(req, res, path, 'openai', parseEmbeddings);
    } else if (req.method === 'GET' && path === '/v1/models') {
      return listModels(req, res, path);
    }
    const format: ErrorFormat = path === '/v1/messages' ? 'anthropic' : 'openai';
    sendError(res, format, 404, { message: `Invalid URL (${req.method} ${path})` });
  };
}
