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

/**
 * Remembers, per distinct message text, the rule verdicts and the normalized form. Most calls of an
 * app repeat the same system prompt, and a hit repeats the whole question: scanning those with a
 * dozen regular expressions on every call was most of the cache's own cost. Bounded by entries and
 * by characters (the text and its normalized form, per role class), oldest dropped first; a text longer than
 * `maxLength` is not remembered.
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

  constructor(
    private readonly maxEntries = 512,
    private readonly maxChars = 1_000_000,
    private readonly maxLength = 8192,
  ) {}

  facts(text: string, role: Role): TextFacts {
    if (text.length > this.maxLength) return {};
    const i = role === 'user' ? 1 : role === 'system' || role === 'developer' ? 0 : 2;
    const map = this.maps[i]!;
    let f = map.get(text);
    if (f === undefined) {
      // Counted twice: the text, and its normalized form if one is made.
      this.chars[i]! += 2 * text.length;
      while ((map.size >= this.maxEntries || this.chars[i]! > this.maxChars) && map.size > 0) {
        const oldest = this.oldest(i);
        map.delete(oldest);
        this.chars[i]! -= 2 * oldest.length;
      }
      f = {};
      map.set(text, f);
    }
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
