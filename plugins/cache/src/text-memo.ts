import type { Role } from '@flowgate/core';
import type { ResolvedNormalize } from './normalize.js';

/** What the policy and the key learned about one message text, computed once per distinct text. */
export interface TextFacts {
  personal?: boolean;
  time?: boolean;
  kind?: string;
  normalized?: string;
  normalizedWith?: ResolvedNormalize;
}

/** Fingerprints of texts met once, one per slot (a power of two): a text is memoized when met again. */
const SEEN_SLOTS = 4096;
/**
 * Newest messages met once lately, per role class: a call looks its texts up twice (policy, then key);
 * a third lookup is another call asking again, and memoizes the text.
 */
const RECENT = 8;
/** Up to this length a fingerprint reads every character; beyond, a sample of them. */
const FULL_PRINT = 256;

/**
 * Remembers, per distinct message text, the rule verdicts and the normalized form. Most calls of an
 * app repeat the same system prompt, and a hit repeats the whole question: scanning those with a
 * dozen regular expressions on every call was most of the cache's own cost. Bounded by entries and
 * by characters (the text and its normalized form, per role class), oldest dropped first; a text longer than
 * `maxLength` is not remembered.
 *
 * A request's newest message (`newest`) is memoized from the second time it is met: a new question
 * (every cache miss brings one) is only fingerprinted into a table of numbers, and its facts, kept
 * a few lookups for the rest of its call, die young instead of being promoted to the old generation
 * with the text, pushing out texts that recur. Older messages of a conversation are memoized at once,
 * as they were sent before and will likely be sent again with its next turn. A fingerprint only
 * decides what is remembered, never what is answered: a collision memoizes a text early, nothing more.
 */
export class TextMemo {
  /** One map per role class: system/developer, user, assistant/tool (normalized differently). */
  private readonly maps = [new Map<string, TextFacts>(), new Map<string, TextFacts>(), new Map<string, TextFacts>()];
  /** Characters held per map. */
  private readonly chars = [0, 0, 0];
  /**
   * Each map's oldest entry, read through one long-lived iterator per map: a fresh `keys()` would
   * walk over every hole V8 keeps for a deleted entry until it rehashes (hundreds, once full).
   * Entries are never re-inserted, so every live one is at or after the iterator's position.
   */
  private readonly fronts = this.maps.map((m) => m.keys());
  private readonly seen = new Int32Array(SEEN_SLOTS);
  /** Per role class, a ring of the texts met once lately: fingerprints, texts and their facts. */
  private readonly recent = [0, 1, 2].map(() => ({
    prints: new Int32Array(RECENT),
    lookups: new Uint8Array(RECENT),
    texts: new Array<string | undefined>(RECENT).fill(undefined),
    facts: new Array<TextFacts | undefined>(RECENT).fill(undefined),
    next: 0,
  }));

  constructor(
    private readonly maxEntries = 512,
    private readonly maxChars = 1_000_000,
    private readonly maxLength = 8192,
  ) {}

  /** The facts of `text`; `newest`: it is the request's last message, likely never met before. */
  facts(text: string, role: Role, newest = false): TextFacts {
    if (text.length > this.maxLength) return {};
    const i = role === 'user' ? 1 : role === 'system' || role === 'developer' ? 0 : 2;
    const map = this.maps[i]!;
    let f = map.get(text);
    if (f !== undefined) return f;
    const print = fingerprint(text, i);
    const recent = this.recent[i]!;
    for (let j = 0; j < RECENT; j++) {
      if (recent.prints[j] === print && recent.texts[j] === text) {
        f = recent.facts[j]!;
        // The same call looking the text up again: not yet a sign that it recurs.
        if (newest && recent.lookups[j]!++ === 0) return f;
        break;
      }
    }
    if (newest && f === undefined) {
      const slot = print & (SEEN_SLOTS - 1);
      if (this.seen[slot] !== print) {
        // Met for the first time: remembered as a number, its facts only for the rest of its call.
        this.seen[slot] = print;
        f = {};
        const j = recent.next;
        recent.prints[j] = print;
        recent.lookups[j] = 0;
        recent.texts[j] = text;
        recent.facts[j] = f;
        recent.next = (j + 1) % RECENT;
        return f;
      }
    }
    f ??= {};
    // Counted twice: the text, and its normalized form if one is made.
    this.chars[i]! += 2 * text.length;
    while ((map.size >= this.maxEntries || this.chars[i]! > this.maxChars) && map.size > 0) {
      const oldest = this.oldest(i);
      map.delete(oldest);
      this.chars[i]! -= 2 * oldest.length;
    }
    map.set(text, f);
    return f;
  }

  /** The oldest text of map `i` (which is not empty). */
  private oldest(i: number): string {
    let next = this.fronts[i]!.next();
    if (next.done) {
      // The iterator reached the end once (the map was emptied): start over.
      this.fronts[i] = this.maps[i]!.keys();
      next = this.fronts[i]!.next();
    }
    return next.value!;
  }
}

/**
 * A 32-bit FNV-1a fingerprint of a text (and its role class): every character of a short text; of a
 * long one, its first and last characters and an even sample between (enough to tell texts apart).
 */
function fingerprint(text: string, roleClass: number): number {
  const n = text.length;
  let h = Math.imul(0x811c9dc5 ^ roleClass, 0x01000193) ^ n;
  if (n <= FULL_PRINT) {
    for (let k = 0; k < n; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    return h;
  }
  const edge = FULL_PRINT / 4;
  const step = Math.floor((n - 2 * edge) / (FULL_PRINT / 2)) + 1;
  for (let k = 0; k < edge; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  for (let k = edge; k < n - edge; k += step) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  for (let k = n - edge; k < n; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h;
}

/**
 * Folds a rule list into as few regular expressions as its flags allow (one pass instead of one per
 * rule). Rules with back-references or named groups stay alone: merging would renumber them.
 */
export function mergeRules(rules: readonly RegExp[]): RegExp[] {
  const byFlags = new Map<string, string[]>();
  const alone: RegExp[] = [];
  for (const r of rules) {
    if (/\\[1-9]|\\k<|\(\?<[A-Za-z_$]/.test(r.source)) {
      alone.push(r);
      continue;
    }
    const list = byFlags.get(r.flags) ?? [];
    list.push(`(?:${r.source})`);
    byFlags.set(r.flags, list);
  }
  const merged = [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
  return [...merged, ...alone];
}
