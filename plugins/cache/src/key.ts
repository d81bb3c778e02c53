import { hash } from 'node:crypto';
import type { ChatCompletionRequest, ChatMessage, Role } from '@flowgate/core';
import { normalizeText, type ResolvedNormalize } from './normalize.js';
import type { Config } from './options.js';
import type { Decision } from './policy.js';
import type { TextMemo } from './text-memo.js';
import type { CacheCallView } from './types.js';

/**
 * Keys look like `v1:{tenant}:{user}:{model}:{prompt}:{hash}`:
 *
 * - `{tenant}` is `t.<tenant>` or `-` (no tenant), `{user}` is `u.<user>` for personalized requests
 *   or `-`, `{prompt}` is `p.<prompt tag>` or `-`. The scope is in the key itself, never only inside
 *   the hash: no lookup for one tenant can even name another tenant's entry, and invalidation by
 *   tenant, model or prompt tag is a pattern over the segments.
 * - Segment values are encoded to `[A-Za-z0-9._~%-]` (see `encodeSegment`), so they never contain
 *   `:` or a glob character.
 * - `{hash}` is SHA-256 (base64url) of a canonical serialization of what decides the answer. A
 *   cryptographic hash because a crafted collision would let one user's prompt overwrite the answer to
 *   another's within a tenant; with `crypto.hash` it costs ~0.3 µs for a short prompt and ~0.6 µs/KB
 *   beyond, less than building the string it hashes.
 */
export const KEY_VERSION = 'v1';

const SAFE = /^[A-Za-z0-9._~-]+$/;

/**
 * Encodes a segment value to `[A-Za-z0-9._~%-]`: every other UTF-16 code unit becomes `%` and four
 * hex digits. Injective (so two tenants never share a segment), and defined for any string, lone
 * surrogates included.
 */
export function encodeSegment(value: string): string {
  if (SAFE.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const safe =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 45 ||
      c === 46 ||
      c === 95 ||
      c === 126;
    out += safe ? value[i] : `%${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

export const scopeSegment = (prefix: string, value: string | undefined): string =>
  value === undefined ? '-' : `${prefix}.${encodeSegment(value)}`;

const digest = (s: string): string => hash('sha256', s, 'base64url');

export class KeyBuilder {
  constructor(
    private readonly c: Config,
    private readonly memo: TextMemo,
  ) {}

  /** The key of a call the policy decided to cache. */
  build(call: CacheCallView, d: Decision, nowMs: number): string {
    const c = this.c;
    let context: (string | null)[] | null = null;
    if (c.keying === 'context') {
      context = [c.locale(call) ?? null, d.timeSensitive ? c.timeBucket(nowMs, call) : null];
    }
    const body = digest(this.canonical(call.request, d.normalize, context));
    return `${this.scope(call, d)}:${body}`;
  }

  /** Everything before the hash: `v1:{tenant}:{user}:{model}:{prompt}`. */
  scope(call: CacheCallView, d: Decision): string {
    const md = call.metadata;
    const tenant = scopeSegment('t', md.tenant);
    const user = scopeSegment('u', d.personalized ? md.user : undefined);
    const prompt = scopeSegment('p', this.c.promptTag(call));
    return `${KEY_VERSION}:${tenant}:${user}:${encodeSegment(call.request.model)}:${prompt}`;
  }

  /**
   * What decides the answer, in a fixed order: model, messages (normalized text; tool-call ids as
   * ordinals, since providers mint fresh random ids each time), tools, tool choice, response format,
   * sampling parameters, max tokens, stop, and the context parts. Never request ids, `user`,
   * `metadata`, `stream` or `stream_options`.
   */
  canonical(r: ChatCompletionRequest, norm: ResolvedNormalize | undefined, context: (string | null)[] | null): string {
    let ids: Map<string, number> | undefined;
    const ordinal = (id: string | undefined): number | null => {
      if (id === undefined) return null;
      ids ??= new Map();
      let n = ids.get(id);
      if (n === undefined) {
        n = ids.size;
        ids.set(id, n);
      }
      return n;
    };
    const messages = new Array<unknown>(r.messages.length);
    for (let i = 0; i < r.messages.length; i++) {
      const m: ChatMessage = r.messages[i]!;
      messages[i] = [
        m.role,
        this.content(m, norm, i === r.messages.length - 1),
        m.name ?? null,
        m.tool_call_id === undefined ? null : ordinal(m.tool_call_id),
        m.tool_calls ? m.tool_calls.map((t) => [ordinal(t.id), t.function.name, t.function.arguments]) : null,
      ];
    }
    return JSON.stringify([
      r.model,
      messages,
      // Serialized as given: an app sends one constant shape, and a different key order can only
      // cost a miss, never a wrong hit.
      r.tools,
      r.tool_choice,
      r.parallel_tool_calls,
      r.response_format,
      r.temperature,
      r.top_p,
      r.n,
      r.seed,
      r.presence_penalty,
      r.frequency_penalty,
      r.max_completion_tokens ?? r.max_tokens,
      r.stop,
      context,
    ]);
  }

  /** `newest`: the request's last message (see `TextMemo.facts`). */
  private content(m: ChatMessage, norm: ResolvedNormalize | undefined, newest: boolean): unknown {
    const c = m.content;
    if (typeof c === 'string') return norm ? this.normalized(c, m.role, norm, newest) : c;
    if (c === null || !Array.isArray(c)) return null;
    return c.map((p) =>
      p.type === 'text'
        ? [0, norm ? this.normalized(p.text, m.role, norm, newest) : p.text]
        : [1, p.image_url?.url ?? null, p.image_url?.detail ?? null],
    );
  }

  private normalized(text: string, role: Role, norm: ResolvedNormalize, newest: boolean): string {
    if (role === 'assistant' || role === 'tool') return text;
    const f = this.memo.facts(text, role, newest);
    if (f.normalizedWith !== norm || f.normalized === undefined) {
      f.normalized = normalizeText(text, role, norm);
      f.normalizedWith = norm;
    }
    return f.normalized;
  }
}

/** A glob over keys for the given tags (`undefined` = any; `null` tenant = calls without a tenant). */
export function tagPattern(tags: {
  tenant?: string | null;
  user?: string | null;
  model?: string;
  promptTag?: string | null;
}): string {
  const seg = (prefix: string, v: string | null | undefined) =>
    v === undefined ? '*' : v === null ? '-' : `${prefix}.${encodeSegment(v)}`;
  const model = tags.model === undefined ? '*' : encodeSegment(tags.model);
  return `${KEY_VERSION}:${seg('t', tags.tenant)}:${seg('u', tags.user)}:${model}:${seg('p', tags.promptTag)}:*`;
}
