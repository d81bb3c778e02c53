import {
  CALENDAR,
  CALENDAR_PHRASES,
  ENTITY_ALIASES,
  GAZETTEER,
  HOW_MANY_UNITS,
  IRREGULAR,
  LIGHT_WORDS,
  NEGATIONS,
  NUMBER_WORDS,
  OPPOSITES,
  PHRASES,
  STEM_EXCEPTIONS,
  STOP_WORDS,
  SYNONYMS,
  UNITS_AFTER_NUMBER,
  UNITS_ALWAYS,
} from './lexicon.js';

/**
 * What one question says, read once: the words the local embedder hashes, and the facts the guards
 * compare (numbers, units, negations, dates, quoted strings, named entities, opposite words).
 */
export interface Analysis {
  /** Canonical content words in order (stop words dropped, synonyms merged, light stemming). */
  readonly words: readonly string[];
  /** Weight of each word (question words count less). */
  readonly weights: readonly number[];
  /** Numbers, sorted (`15`, `3.12`, `2nd`; digits inside `G7` or `ES2020` too). */
  readonly numbers: readonly string[];
  /** Canonical units, sorted (`km`, `°c`, `usd`, `%`...). */
  readonly units: readonly string[];
  /**
   * The units that measure a quantity (right after a number, or "a"/"an"/"per"), sorted: what is
   * converted from. "Convert 100 °F to °C" measures `°f`; "100 °C to °F" measures `°c`.
   */
  readonly measured: readonly string[];
  /** "x>y" for each "x to y" / "x into y" between content words: the direction of a conversion or a move. */
  readonly transitions: readonly string[];
  /** How many negation cues (`not`, `no`, `never`, `without`, `n't`...). */
  readonly negations: number;
  /** Canonical calendar facts, sorted (`month:jul`, `date:2024-03-15`, `holiday:easter`...). */
  readonly dates: readonly string[];
  /** Quoted strings, lower-cased, sorted. */
  readonly quotes: readonly string[];
  /** Named entities, canonical and lower-cased (`paris`, `mona lisa`, `useeffect`, `usa`). */
  readonly entities: readonly string[];
  /** Every 1- to 4-word span, lower-cased with aliases applied: where another question's entities are looked for. */
  readonly mentions: ReadonlySet<string>;
  /** Canonical words and lower-cased tokens, for the opposite-pair guard. */
  readonly terms: ReadonlySet<string>;
}

interface Token {
  /** As written (case kept). */
  text: string;
  lower: string;
  /** First word of a sentence, or right after a quote, colon or bracket. */
  start: boolean;
}

const LIGHT_WEIGHT = 0.35;
const MAX_CHARS = 4000;

const TYPO_SINGLE = /[\u2018\u2019\u201B\u2032`\u00B4]/g;
const TYPO_DOUBLE = /[\u201C\u201D\u201F\u2033\u00AB\u00BB]/g;
const QUOTED_DOUBLE = /"([^"]{1,200})"/g;
// A single-quoted string starts after a space or bracket and ends before one: "it's" is not a quote.
const QUOTED_SINGLE = /(^|[\s(:[])'([^']{1,200})'(?=$|[\s?.!,;:)\]])/g;
const ISO_DATE = /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g;
const NUMERIC_DATE = /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/g;
const THOUSANDS = /(\d),(?=\d{3}\b)/g;
const PAREN_SUFFIX = /(\d)\(([a-z])\)/gi;
const DEGREES = /(\d)\s*°\s*([cf])\b/gi;
const CURRENCY_BEFORE = /([$€£¥])\s?(\d[\d.]*)/g;
const CURRENCY_NAMES: Record<string, string> = { $: 'usd', '€': 'eur', '£': 'gbp', '¥': 'jpy' };
const SPEED = /\b(km|mi|m)\s*\/\s*(h|hr|s)\b/gi;
const CONTRACTIONS: readonly (readonly [RegExp, string])[] = [
  [/\bwon't\b/gi, 'will not'],
  [/\bcan't\b/gi, 'can not'],
  [/\bshan't\b/gi, 'shall not'],
  [/\bcannot\b/gi, 'can not'],
  [/(\w)n't\b/gi, '$1 not'],
  [/\b(what|where|who|how|when|why|it|that|there|here)'s\b/gi, '$1 is'],
  [/\blet's\b/gi, 'let us'],
  [/'re\b/gi, ' are'],
  [/'ve\b/gi, ' have'],
  [/'ll\b/gi, ' will'],
  [/'d\b/gi, ' would'],
  [/'m\b/gi, ' am'],
  [/'s\b/gi, ''],
  [/s'(?=\s|$)/gi, 's'],
];
// Words with inner dots or underscores (node.js, os.path, snake_case), C# / C++, numbers with a
// letter suffix (3rd, 401k, 100g), other words, code operators, and the marks that start a sentence.
const TOKEN =
  /[A-Za-z][A-Za-z0-9]*(?:#|\+\+)|\d+(?:\.\d+)*[A-Za-z]*|[\p{L}\p{N}]+(?:[._][\p{L}\p{N}]+)*|[=!<>&|]{2,3}|["'(:;.!?[]/gu;
const BOUNDARY = /^["'(:;.!?[]$/;
const OPERATOR = /^[=!<>&|]{2,3}$/;
const DIGITS = /\d+(?:\.\d+)*/g;
const QUANTIFIERS = new Set(['a', 'an', 'one', 'per', 'each', 'every']);
const DIRECTION_WORDS = new Set(['to', 'into']);
const ALL_CAPS = /^[A-Z][A-Z0-9]+$/;
const CODE_IDENT = /[a-z][A-Z]|_|\.[a-z]|#$|\+\+$/;

const SINGLE_ALIASES = new Map(ENTITY_ALIASES.filter(([a]) => !a.includes(' ')));
const PHRASE_ALIASES = ENTITY_ALIASES.filter(([a]) => a.includes(' ')).map(
  ([a, c]) => [a.split(' '), c] as [string[], string],
);
const PHRASE_LIST = PHRASES.map(([p, c]) => [p.split(' '), c] as [string[], string]);

/** Light suffix stripping: enough for "boiled/boiling/boils" → "boil", without a dictionary. */
export function stem(word: string): string {
  if (word.length <= 3 || STEM_EXCEPTIONS.has(word) || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:sh|ch|x|zz)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  else if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ied') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  else if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  // "create", "created", "creating" → "creat"
  if (w !== word && (SYNONYMS.has(w) || IRREGULAR.has(w))) return w;
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const n = w.length;
  if (n > 3 && w[n - 1] === w[n - 2] && !/[lsz]/.test(w[n - 1]!)) return w.slice(0, -1);
  return w;
}

/** The canonical form of one lower-case word. */
export function canonical(lower: string): string {
  const irregular = IRREGULAR.get(lower);
  if (irregular !== undefined) return SYNONYMS.get(irregular) ?? irregular;
  const syn = SYNONYMS.get(lower);
  if (syn !== undefined) return syn;
  const alias = SINGLE_ALIASES.get(lower);
  if (alias !== undefined) return alias;
  const s = stem(lower);
  return SYNONYMS.get(s) ?? IRREGULAR.get(s) ?? s;
}

const OPPOSITE_PAIRS: readonly (readonly [string, string])[] = OPPOSITES.map(
  ([a, b]) => [canonical(a), canonical(b)] as const,
);

function sortStrings(a: string[]): string[] {
  return a.sort();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let start = true;
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    if (BOUNDARY.test(t)) {
      start = true;
      continue;
    }
    tokens.push({ text: t, lower: t.toLowerCase(), start });
    start = false;
  }
  return tokens;
}

/** Rewrites phrases ("turn on" → "enable") on a lower-case word list. */
function rewritePhrases(words: string[], list: readonly (readonly [string[], string])[]): string[] {
  const out: string[] = [];
  outer: for (let i = 0; i < words.length; i++) {
    for (const [phrase, replacement] of list) {
      if (phrase[0] !== words[i]) continue;
      let ok = true;
      for (let j = 1; j < phrase.length; j++) {
        if (words[i + j] !== phrase[j]) {
          ok = false;
          break;
        }
      }
      if (ok) {
        out.push(replacement);
        i += phrase.length - 1;
        continue outer;
      }
    }
    out.push(words[i]!);
  }
  return out;
}

function canonicalNumber(digits: string): string {
  const n = digits.replace(/^0+(?=\d)/, '');
  return n;
}

/** Reads one question. Pure; the caller memoizes. */
export function analyze(input: string): Analysis {
  let text = input.length > MAX_CHARS ? input.slice(0, MAX_CHARS) : input;
  text = text.normalize('NFKC').replace(TYPO_SINGLE, "'").replace(TYPO_DOUBLE, '"');

  const quotes: string[] = [];
  for (const m of text.matchAll(QUOTED_DOUBLE)) quotes.push(m[1]!.trim().toLowerCase());
  for (const m of text.matchAll(QUOTED_SINGLE)) quotes.push(m[2]!.trim().toLowerCase());

  const dates: string[] = [];
  text = text.replace(ISO_DATE, (_, y: string, mo: string, d: string) => {
    dates.push(`date:${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`);
    return ' ';
  });
  text = text.replace(NUMERIC_DATE, (_, a: string, b: string, y: string | undefined) => {
    dates.push(`date:${Number(a)}/${Number(b)}${y ? `/${y}` : ''}`);
    return ' ';
  });
  const lowerText = text.toLowerCase();
  for (const [re, canon] of CALENDAR_PHRASES) {
    for (const m of lowerText.matchAll(re)) dates.push(m[0].replace(re, canon));
  }

  text = text
    .replace(THOUSANDS, '$1')
    .replace(PAREN_SUFFIX, '$1$2')
    .replace(DEGREES, (_, n: string, u: string) => `${n} ${u.toLowerCase() === 'c' ? 'celsius' : 'fahrenheit'}`)
    .replace(/°\s*([cf])\b/gi, (_, u: string) => (u.toLowerCase() === 'c' ? ' celsius ' : ' fahrenheit '))
    .replace(/°/g, ' degrees ')
    .replace(CURRENCY_BEFORE, (_, sym: string, n: string) => ` ${n} ${CURRENCY_NAMES[sym] ?? ''} `)
    .replace(/%/g, ' percent ')
    .replace(/\^/g, ' power ')
    .replace(SPEED, (_, d: string, t: string) => (d.toLowerCase() === 'km' ? ' kmh ' : t === 's' ? ' mps ' : ' mph '));
  for (const [re, replacement] of CONTRACTIONS) text = text.replace(re, replacement);
  // Hyphens join words ("two-factor", "dollar-cost"): split them so that "dollar cost" matches.
  text = text.replace(/(\p{L})-(?=\p{L})/gu, '$1 ');

  const tokens = tokenize(text);
  const lowers = tokens.map((t) => t.lower);

  // Numbers and units.
  // What the embedder and the substitution guard read: the tokens, units as one canonical "~unit"
  // lexeme ("kilometers per hour" and "km/h" are both "~km/h"), undefined where a token was absorbed.
  const lexemes: (string | undefined)[] = [...lowers];
  const numbers: string[] = [];
  const units: string[] = [];
  const measured: string[] = [];
  const isNumber: ('cardinal' | 'ordinal' | undefined)[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const first = t.lower.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      const m = /^(\d+(?:\.\d+)*)([a-z]*)$/.exec(t.lower);
      if (m) {
        const suffix = m[2]!;
        if (suffix === 'st' || suffix === 'nd' || suffix === 'rd' || suffix === 'th') {
          numbers.push(`${canonicalNumber(m[1]!)}${suffix}`);
          isNumber[i] = 'ordinal';
          continue;
        } else {
          numbers.push(canonicalNumber(m[1]!));
          const unit = suffix && (UNITS_ALWAYS.get(suffix) ?? UNITS_AFTER_NUMBER.get(suffix));
          if (unit) {
            units.push(unit);
            measured.push(unit);
            lexemes[i] = `${canonicalNumber(m[1]!)} ~${unit}`;
          } else if (suffix) numbers.push(`${canonicalNumber(m[1]!)}${suffix}`);
        }
        isNumber[i] = 'cardinal';
        continue;
      }
    }
    const word = NUMBER_WORDS.get(t.lower);
    if (word !== undefined) {
      numbers.push(word);
      isNumber[i] = /\d(?:st|nd|rd|th)$/.test(word) ? 'ordinal' : 'cardinal';
      continue;
    }
    // Digits inside a name: G7, ES2020, Q1, iPhone15.
    if (/\d/.test(t.lower)) for (const d of t.lower.matchAll(DIGITS)) numbers.push(canonicalNumber(d[0]));
  }
  /** Whether the word at `i` follows a quantity: a number, or "a", "an", "one", "per", "each". */
  const quantity = (i: number): boolean => i > 0 && (isNumber[i - 1] === 'cardinal' || QUANTIFIERS.has(lowers[i - 1]!));
  // "How many seconds in an hour": time words are what is counted, with or without a number.
  const howMany = /\bhow many\b/.test(lowerText);
  for (let i = 0; i < tokens.length; i++) {
    if (isNumber[i]) continue;
    const w = lowers[i]!;
    const next = lowers[i + 1];
    let unit: string | undefined;
    if ((w === 'square' || w === 'sq') && next !== undefined) {
      const u = UNITS_ALWAYS.get(next);
      if (u !== undefined) {
        units.push(`${u}²`);
        if (quantity(i)) measured.push(`${u}²`);
        lexemes[i] = undefined;
        lexemes[i + 1] = `~${u}²`;
        i++;
        continue;
      }
    }
    if ((w === 'degree' || w === 'degrees') && next !== undefined && UNITS_ALWAYS.has(next)) {
      // "100 degrees Fahrenheit": the scale measures the number before "degrees".
      if (quantity(i)) isNumber[i] = 'cardinal';
      lexemes[i] = undefined;
      continue;
    }
    unit = UNITS_ALWAYS.get(w);
    if (unit === undefined && i > 0 && isNumber[i - 1] === 'cardinal') unit = UNITS_AFTER_NUMBER.get(w);
    if (unit === undefined && howMany) unit = HOW_MANY_UNITS.get(w);
    if (unit === undefined) continue;
    // "miles per hour", "km per hour"
    if (next === 'per' && (lowers[i + 2] === 'hour' || lowers[i + 2] === 'h')) {
      unit = unit === 'km' ? 'km/h' : unit === 'mi' ? 'mph' : `${unit}/h`;
      units.push(unit);
      if (quantity(i)) measured.push(unit);
      lexemes[i] = `~${unit}`;
      lexemes[i + 1] = undefined;
      lexemes[i + 2] = undefined;
      i += 2;
      continue;
    }
    units.push(unit);
    if (quantity(i)) measured.push(unit);
    lexemes[i] = `~${unit}`;
  }

  // Negations.
  let negations = 0;
  for (const w of lowers) if (NEGATIONS.has(w)) negations++;

  // Calendar words.
  for (let i = 0; i < tokens.length; i++) {
    const c = CALENDAR.get(lowers[i]!);
    if (c === undefined) continue;
    // "may" is a month only when written as one: "on May 3", "in May", not "may I".
    if (
      lowers[i] === 'may' &&
      !(tokens[i]!.text === 'May' && !tokens[i]!.start) &&
      !isNumber[i + 1] &&
      !isNumber[i - 1]
    ) {
      continue;
    }
    dates.push(c);
  }

  // Entities: capitalized runs not at a sentence start, all-caps words, code identifiers, known names.
  const entities = new Set<string>();
  const aliased = rewritePhrases(lowers, PHRASE_ALIASES);
  const addEntity = (e: string) => {
    const canon = SINGLE_ALIASES.get(e) ?? aliasPhrase(e);
    entities.add(canon);
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (OPERATOR.test(t.text) || CODE_IDENT.test(t.text)) {
      addEntity(t.lower);
      continue;
    }
    const caps = ALL_CAPS.test(t.text) && t.text.length >= 2;
    const capitalized = /^\p{Lu}/u.test(t.text) && t.text !== 'I' && !isNumber[i];
    if (caps || (capitalized && !t.start)) {
      // Extend over the following capitalized words: "Mona Lisa", "Statue of Liberty" stays two runs.
      let j = i;
      const run = [t.lower];
      while (j + 1 < tokens.length && /^\p{Lu}/u.test(tokens[j + 1]!.text) && tokens[j + 1]!.text !== 'I') {
        j++;
        run.push(tokens[j]!.lower);
      }
      addEntity(run.join(' '));
      i = j;
    }
  }
  for (let i = 0; i < aliased.length; i++) {
    const w = aliased[i]!;
    if (GAZETTEER.has(w)) entities.add(SINGLE_ALIASES.get(w) ?? w);
  }
  const mentions = new Set<string>();
  const mentionWords = aliased.map((w) => SINGLE_ALIASES.get(w) ?? w);
  for (let i = 0; i < mentionWords.length; i++) {
    let span = '';
    for (let n = 0; n < 4 && i + n < mentionWords.length; n++) {
      span = n === 0 ? mentionWords[i]! : `${span} ${mentionWords[i + n]}`;
      mentions.add(span);
      mentions.add(aliasPhrase(span));
    }
    // "Chrome" and "chromes", "dicts" and "dict": a plural still mentions the name.
    mentions.add(stem(mentionWords[i]!));
  }

  // Words for the embedder.
  const words: string[] = [];
  const weights: number[] = [];
  const transitions: string[] = [];
  const kept = lexemes.flatMap((l) => (l === undefined ? [] : l.split(' ')));
  const phrased = rewritePhrases(rewritePhrases(kept, PHRASE_ALIASES), PHRASE_LIST);
  // The last content word seen, and whether "to"/"into" came after it.
  let previous: string | undefined;
  let pending: string | undefined;
  for (let i = 0; i < phrased.length; i++) {
    const w = phrased[i]!;
    if (DIRECTION_WORDS.has(w)) {
      pending = previous;
      continue;
    }
    if (STOP_WORDS.has(w) && !(w === 'us' && tokens.some((t) => t.text === 'US'))) continue;
    const c = w.startsWith('~') ? w : w === 'us' ? 'usa' : canonical(w);
    if (STOP_WORDS.has(c)) continue;
    const light = LIGHT_WORDS.has(c);
    words.push(c);
    weights.push(light ? LIGHT_WEIGHT : 1);
    if (light) continue;
    if (pending !== undefined) transitions.push(`${pending}>${c}`);
    pending = undefined;
    previous = c;
  }
  const terms = new Set<string>(words);
  for (const w of lowers) terms.add(w);

  return {
    words,
    weights,
    numbers: sortStrings(numbers),
    units: sortStrings(units),
    measured: sortStrings(measured),
    transitions,
    negations,
    dates: sortStrings(dates),
    quotes: sortStrings(quotes),
    entities: [...entities],
    mentions,
    terms,
  };
}

function aliasPhrase(phrase: string): string {
  for (const [alias, canon] of ENTITY_ALIASES) if (alias === phrase) return canon;
  return phrase;
}

export { OPPOSITE_PAIRS };
