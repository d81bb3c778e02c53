import { InvalidRequestError } from './errors.js';
import type { ChatCompletionRequest } from './wire.js';
import { ROLES } from './wire.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ROLE_SET = new Set<string>(ROLES);

function fail(field: string, message: string): never {
  throw new InvalidRequestError(field, message);
}

function optNumber(req: Obj, key: string, min: number, max: number, integer = false): void {
  const v = req[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || Number.isNaN(v)) fail(key, 'must be a number');
  if (integer && !Number.isInteger(v)) fail(key, 'must be an integer');
  if (v < min || v > max) fail(key, `must be between ${min} and ${max}`);
}

function optType(req: Obj, key: string, type: 'string' | 'boolean'): void {
  const v = req[key];
  if (v !== undefined && v !== null && typeof v !== type) fail(key, `must be a ${type}`);
}

/** `messages[i].content`; built only on the failure path (no string per message per call). */
function validateContent(content: unknown, i: number, role: string): void {
  if (content === null || content === undefined) {
    if (role === 'user' || role === 'system' || role === 'developer' || role === 'tool')
      fail(`messages[${i}].content`, 'is required');
    return;
  }
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) fail(`messages[${i}].content`, 'must be a string or an array of content parts');
  const part = (j: number, rest = '') => `messages[${i}].content[${j}]${rest}`;
  for (let j = 0; j < content.length; j++) {
    const p: unknown = content[j];
    if (!isObj(p)) fail(part(j), 'must be an object');
    if (p.type === 'text') {
      if (typeof p.text !== 'string') fail(part(j, '.text'), 'must be a string');
    } else if (p.type === 'image_url') {
      if (!isObj(p.image_url) || typeof p.image_url.url !== 'string')
        fail(part(j, '.image_url.url'), 'must be a string');
    } else {
      fail(part(j, '.type'), 'must be "text" or "image_url"');
    }
  }
}

function validateMessage(m: unknown, i: number): void {
  if (!isObj(m)) fail(`messages[${i}]`, 'must be an object');
  if (typeof m.role !== 'string') fail(`messages[${i}].role`, 'is required and must be a string');
  if (!ROLE_SET.has(m.role))
    fail(`messages[${i}].role`, `unknown role "${m.role}" (expected one of ${ROLES.join(', ')})`);
  if (m.name !== undefined && typeof m.name !== 'string') fail(`messages[${i}].name`, 'must be a string');
  if (m.tool_calls !== undefined) {
    const f = `messages[${i}]`;
    if (m.role !== 'assistant') fail(`${f}.tool_calls`, 'is only allowed on assistant messages');
    if (!Array.isArray(m.tool_calls)) fail(`${f}.tool_calls`, 'must be an array');
    m.tool_calls.forEach((t: unknown, j: number) => {
      const tf = `${f}.tool_calls[${j}]`;
      if (!isObj(t)) fail(tf, 'must be an object');
      if (typeof t.id !== 'string') fail(`${tf}.id`, 'must be a string');
      if (!isObj(t.function)) fail(`${tf}.function`, 'must be an object');
      if (typeof t.function.name !== 'string') fail(`${tf}.function.name`, 'must be a string');
      if (typeof t.function.arguments !== 'string') fail(`${tf}.function.arguments`, 'must be a string');
    });
    validateContent(m.content, i, 'assistant-with-tools');
    return;
  }
  if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
    fail(`messages[${i}].tool_call_id`, 'is required for tool messages');
  validateContent(m.content, i, m.role);
}

/**
 * Checks a request at the door so that providers never see a malformed one.
 * Throws `InvalidRequestError` naming the first offending field (`messages[1].role`).
 */
export function validateRequest(req: unknown): asserts req is ChatCompletionRequest {
  if (!isObj(req)) fail('request', 'must be an object');
  if (typeof req.model !== 'string' || req.model.length === 0)
    fail('model', 'is required and must be a non-empty string');
  if (!Array.isArray(req.messages)) fail('messages', 'is required and must be an array');
  if (req.messages.length === 0) fail('messages', 'must contain at least one message');
  for (let i = 0; i < req.messages.length; i++) validateMessage(req.messages[i], i);

  optType(req, 'stream', 'boolean');
  optType(req, 'user', 'string');
  optType(req, 'parallel_tool_calls', 'boolean');
  optNumber(req, 'temperature', 0, 2);
  optNumber(req, 'top_p', 0, 1);
  optNumber(req, 'presence_penalty', -2, 2);
  optNumber(req, 'frequency_penalty', -2, 2);
  optNumber(req, 'max_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  optNumber(req, 'max_completion_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  optNumber(req, 'n', 1, 128, true);
  optNumber(req, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);

  const stop = req.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string') {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string'))
      fail('stop', 'must be a string or an array of strings');
  }
  if (req.stream_options !== undefined && req.stream_options !== null && !isObj(req.stream_options)) {
    fail('stream_options', 'must be an object');
  }
  if (req.tools !== undefined && req.tools !== null) {
    if (!Array.isArray(req.tools)) fail('tools', 'must be an array');
    req.tools.forEach((t: unknown, i: number) => {
      if (!isObj(t) || t.type !== 'function') fail(`tools[${i}].type`, 'must be "function"');
      if (!isObj(t.function) || typeof t.function.name !== 'string' || t.function.name.length === 0) {
        fail(`tools[${i}].function.name`, 'is required and must be a non-empty string');
      }
      if (t.function.parameters !== undefined && !isObj(t.function.parameters)) {
        fail(`tools[${i}].function.parameters`, 'must be an object');
      }
    });
  }
  const tc = req.tool_choice;
  if (tc !== undefined && tc !== null && !(tc === 'none' || tc === 'auto' || tc === 'required')) {
    if (!isObj(tc) || !isObj(tc.function) || typeof tc.function.name !== 'string') {
      fail('tool_choice', 'must be "none", "auto", "required" or {type:"function",function:{name}}');
    }
  }
  if (req.response_format !== undefined && req.response_format !== null) {
    const rf = req.response_format;
    if (!isObj(rf) || (rf.type !== 'text' && rf.type !== 'json_object' && rf.type !== 'json_schema')) {
      fail('response_format.type', 'must be "text", "json_object" or "json_schema"');
    }
  }
}
