import type { ChatCompletionRequest, ContentPart } from '@flowgate/core';
import { expandContractions, type ResolvedNormalize } from './normalize.js';
import type { Config } from './options.js';
import { type KindRule, snakeCase } from './rules.js';
import type { TextFacts, TextMemo } from './text-memo.js';
import type { CacheCallView, CacheSkipReason } from './types.js';

/** What the policy decided for one call. */
export interface Decision {
  readonly cache: boolean;
  readonly reason: CacheSkipReason | undefined;
  /** Keyed by user as well as tenant. */
  readonly personalized: boolean;
  /** Refers to the time: context keying adds a time bucket to the key. */
  readonly timeSensitive: boolean;
  readonly kind: string;
  readonly ttlMs: number;
  /** Normalization for the key, if any. */
  readonly normalize: ResolvedNormalize | undefined;
}

function skipped(reason: CacheSkipReason): Decision {
  return Object.freeze({
    cache: false,
    reason,
    personalized: false,
    timeSensitive: false,
    kind: 'default',
    ttlMs: 0,
    normalize: undefined,
  });
}

const SKIP: Record<CacheSkipReason, Decision> = {
  'mode-never': skipped('mode-never'),
  'non-deterministic': skipped('non-deterministic'),
  personalized: skipped('personalized'),
  'personalized-without-user': skipped('personalized-without-user'),
  'personal-info': skipped('personal-info'),
  'time-reference': skipped('time-reference'),
  'live-tool': skipped('live-tool'),
};

/** The text of a message's content (text parts joined). */
export function textOf(content: string | ContentPart[] | null): string {
  if (typeof content === 'string') return content;
  if (content === null || !Array.isArray(content)) return '';
  let s = '';
  for (const p of content) if (p.type === 'text') s = s.length === 0 ? p.text : `${s}\n${p.text}`;
  return s;
}

function matchesAny(text: string, rules: readonly RegExp[]): boolean {
  for (let i = 0; i < rules.length; i++) if (rules[i]!.test(text)) return true;
  return false;
}

/** The kind of the last user message (lower-cased, contractions expanded), for its TTL. */
export function classify(text: string, kinds: readonly KindRule[]): string {
  if (kinds.length === 0 || text.length === 0) return 'default';
  const s = expandContractions(text.toLowerCase()).trim();
  for (const k of kinds) if (k.pattern.test(s)) return k.kind;
  return 'default';
}

/**
 * The never / always / smart policy, with its defaults. `decide` runs once per call, cheap checks
 * first; the regular expressions only run in smart mode (and time references for context keying).
 */
export class Policy {
  /** Tool lists are usually one constant array per app: remember the verdict per array. */
  private readonly liveToolMemo = new WeakMap<object, { n: number; live: boolean }>();

  constructor(
    private readonly c: Config,
    private readonly memo: TextMemo,
  ) {}

  decide(call: CacheCallView): Decision {
    const c = this.c;
    const o = call.options.cache;
    const mode = o?.mode ?? c.mode;
    if (mode === 'never') return SKIP['mode-never'];
    const personalized = o?.personalized ?? c.isPersonalized(call);
    // A personalized answer without a user to scope it to must never be shared.
    if (personalized && !call.metadata.user) return SKIP['personalized-without-user'];
    const r = call.request;
    const smart = mode === 'smart';
    if (smart) {
      if (r.temperature !== undefined && r.temperature !== null && r.temperature > 0 && !c.cacheNonDeterministic) {
        return SKIP['non-deterministic'];
      }
      if (personalized && !c.cachePersonalized) return SKIP.personalized;
      if (c.rules.liveTools.length > 0 && this.usesLiveTool(r)) return SKIP['live-tool'];
    }
    const checkPersonal = smart && c.rules.personalInfo.length > 0;
    const checkTime = (smart || c.keying === 'context') && c.rules.timeReferences.length > 0;
    let timeSensitive = false;
    let lastUser: TextFacts | undefined;
    let lastUserText = '';
    const messages = r.messages;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const text = textOf(m.content);
      if (text.length === 0) continue;
      const f = this.memo.facts(text, m.role, i === messages.length - 1);
      if (m.role === 'user') {
        lastUser = f;
        lastUserText = text;
        if (checkTime && !timeSensitive) {
          f.time ??= matchesAny(text, c.rules.timeReferences);
          if (f.time) timeSensitive = true;
        }
      }
      if (checkPersonal) {
        f.personal ??= matchesAny(text, c.rules.personalInfo);
        if (f.personal) return SKIP['personal-info'];
      }
    }
    if (timeSensitive && smart && c.keying === 'exact') return SKIP['time-reference'];
    let kind = 'current';
    if (!timeSensitive && lastUser) {
      lastUser.kind ??= classify(lastUserText, c.rules.kinds);
      kind = lastUser.kind;
    } else if (!timeSensitive) kind = 'default';
    const ttlMs = o?.ttlMs ?? c.ttlMs ?? c.ttlByKind[kind] ?? c.ttlByKind.default!;
    return {
      cache: true,
      reason: undefined,
      personalized,
      timeSensitive,
      kind,
      ttlMs,
      normalize: smart ? c.normalizeSmart : c.normalizeAlways,
    };
  }

  /** A tool offered to the model, or called earlier in the conversation, reads live data. */
  private usesLiveTool(r: ChatCompletionRequest): boolean {
    if (r.tools && r.tools.length > 0) {
      let memo = this.liveToolMemo.get(r.tools);
      if (memo === undefined || memo.n !== r.tools.length) {
        memo = { n: r.tools.length, live: r.tools.some((t) => this.isLive(t.function?.name)) };
        this.liveToolMemo.set(r.tools, memo);
      }
      if (memo.live) return true;
    }
    for (const m of r.messages) {
      if (m.tool_calls) for (const t of m.tool_calls) if (this.isLive(t.function?.name)) return true;
    }
    return false;
  }

  private isLive(name: string | undefined): boolean {
    return typeof name === 'string' && matchesAny(snakeCase(name), this.c.rules.liveTools);
  }
}
