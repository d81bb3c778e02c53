import { ConfigError } from '@flowgate/core';
import { type Analysis, OPPOSITE_PAIRS, stem } from './text/analyze.js';

/**
 * The near-miss guards, checked in this order after the similarity threshold. Each compares one kind
 * of fact of the new question with the cached one's; any difference refuses the hit:
 *
 * - `quote`: the quoted strings (`"carpe diem"` vs `"carpe noctem"`).
 * - `number`: the numbers, number words and ordinals (`15% of 200` vs `15% of 300`, `G7` vs `G20`).
 * - `unit`: the units, currencies and temperature scales (`5 kg` vs `5 lb`, `USD` vs `EUR`, `°C` vs `°F`),
 *   and which of them measures the quantity (`100 °F to °C` vs `100 °C to °F`).
 * - `negation`: how many negation cues (`not`, `no`, `never`, `without`, `n't`, `unsafe`...).
 * - `date`: months, weekdays, seasons, holidays, ISO and numeric dates, today/tomorrow.
 * - `entity`: named entities (capitalized words not at a sentence start, all-caps words, code
 *   identifiers, known places, languages, products), each of which must be mentioned by the other.
 * - `direction`: one says "x to y" and the other "y to x" ("convert a list to a string").
 * - `opposite`: one side says "enable", "buy", "upload", "ascending"... and the other its opposite.
 * - `substitution`: each question has a content word the other lacks ("boil an egg" / "fry an egg",
 *   "minimum wage" / "average wage"). A paraphrase adds or drops words, or swaps synonyms; a near miss
 *   swaps the word that matters. Question words and light words ("use", "best", "work") do not count.
 */
export type GuardName =
  | 'quote'
  | 'number'
  | 'unit'
  | 'negation'
  | 'date'
  | 'entity'
  | 'direction'
  | 'opposite'
  | 'substitution';

export const GUARD_NAMES: readonly GuardName[] = [
  'quote',
  'number',
  'unit',
  'negation',
  'date',
  'entity',
  'direction',
  'opposite',
  'substitution',
];

/** Which guards run; every guard is on by default. */
export type GuardOptions = Partial<Record<GuardName, boolean>>;

export type ResolvedGuards = Readonly<Record<GuardName, boolean>>;

export function resolveGuards(options: GuardOptions | undefined): ResolvedGuards {
  const out = {} as Record<GuardName, boolean>;
  for (const g of GUARD_NAMES) out[g] = true;
  if (options === undefined) return out;
  if (typeof options !== 'object' || options === null) throw new ConfigError('semanticCache guards must be an object');
  for (const [k, v] of Object.entries(options)) {
    if (!GUARD_NAMES.includes(k as GuardName)) {
      throw new ConfigError(`semanticCache guards: unknown guard "${k}" (known: ${GUARD_NAMES.join(', ')})`);
    }
    if (typeof v !== 'boolean') throw new ConfigError(`semanticCache guards.${k} must be a boolean`);
    out[k as GuardName] = v;
  }
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mentionsAll(entities: readonly string[], other: Analysis): boolean {
  for (const e of entities) {
    if (!other.mentions.has(e) && !other.mentions.has(stem(e))) return false;
  }
  return true;
}

function oppositeOf(a: Analysis, b: Analysis): boolean {
  const ta = a.terms;
  const tb = b.terms;
  for (const [x, y] of OPPOSITE_PAIRS) {
    if (ta.has(x) && !ta.has(y) && tb.has(y) && !tb.has(x)) return true;
    if (ta.has(y) && !ta.has(x) && tb.has(x) && !tb.has(y)) return true;
  }
  return false;
}

function reversed(a: Analysis, b: Analysis): boolean {
  for (const t of a.transitions) {
    const i = t.indexOf('>');
    if (b.transitions.includes(`${t.slice(i + 1)}>${t.slice(0, i)}`)) return true;
  }
  return false;
}

/** Same word, or one a prefix of the other ("start" / "startup", "invest" / "investment"). */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length < 4 || b.length < 4) return false;
  return a.startsWith(b) || b.startsWith(a);
}

/** Whether some content word of `a` has no counterpart among the words of `b`. */
function hasOwnWord(a: Analysis, b: Analysis): boolean {
  outer: for (let i = 0; i < a.words.length; i++) {
    if (a.weights[i]! < 1) continue;
    const w = a.words[i]!;
    for (const o of b.words) if (sameWord(w, o)) continue outer;
    return true;
  }
  return false;
}

/** The first guard that tells `a` and `b` apart, or undefined when every enabled guard passes. */
export function failedGuard(a: Analysis, b: Analysis, guards: ResolvedGuards): GuardName | undefined {
  if (guards.quote && !sameList(a.quotes, b.quotes)) return 'quote';
  if (guards.number && !sameList(a.numbers, b.numbers)) return 'number';
  if (guards.unit && !(sameList(a.units, b.units) && sameList(a.measured, b.measured))) return 'unit';
  if (guards.negation && a.negations !== b.negations) return 'negation';
  if (guards.date && !sameList(a.dates, b.dates)) return 'date';
  if (guards.entity && !(mentionsAll(a.entities, b) && mentionsAll(b.entities, a))) return 'entity';
  if (guards.direction && reversed(a, b)) return 'direction';
  if (guards.opposite && oppositeOf(a, b)) return 'opposite';
  if (guards.substitution && hasOwnWord(a, b) && hasOwnWord(b, a)) return 'substitution';
  return undefined;
}
