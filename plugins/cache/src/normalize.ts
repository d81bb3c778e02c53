import type { Role } from '@flowgate/core';

/** How message text is normalized before it is hashed (never what is sent upstream). */
export interface NormalizeOptions {
  /** Lower-case (default true). */
  case?: boolean;
  /** Collapse runs of whitespace, trim (default true). */
  whitespace?: boolean;
  /** Drop trailing `? ! .`; typographic quotes to ASCII (default true). */
  punctuation?: boolean;
  /** `what's` → `what is`, and a few more (default true). */
  contractions?: boolean;
  /**
   * Dates and times to placeholders (`<date>`, `<time>`, `<weekday>`). `'system'` (default): in
   * system and developer messages only, where apps inject "today is ..." boilerplate; `'all'`: also
   * in user messages (then "what happened on 1969-07-20" and "... on 2001-09-11" share an entry:
   * only for apps whose dates never change the answer); `false`: never.
   */
  dates?: 'system' | 'all' | false;
}

export type ResolvedNormalize = Required<NormalizeOptions>;

export const DEFAULT_NORMALIZE: ResolvedNormalize = Object.freeze({
  case: true,
  whitespace: true,
  punctuation: true,
  contractions: true,
  dates: 'system',
});

const ISO_DATETIME = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;
const NUMERIC_DATE = /\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/g;
const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const MONTH_DATE = new RegExp(
  `\\b(?:${MONTH}\\.? \\d{1,2}(?:st|nd|rd|th)?(?:,? \\d{4})?|\\d{1,2}(?:st|nd|rd|th)?(?: of)? ${MONTH}(?:,? \\d{4})?)\\b`,
  'gi',
);
const TIME = /\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?=\W|$)/gi;
const WEEKDAY = /\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b/gi;

const CONTRACTIONS: Record<string, string> = {
  "what's": 'what is',
  "who's": 'who is',
  "where's": 'where is',
  "when's": 'when is',
  "how's": 'how is',
  "why's": 'why is',
  "it's": 'it is',
  "that's": 'that is',
  "there's": 'there is',
  "isn't": 'is not',
  "aren't": 'are not',
  "doesn't": 'does not',
  "don't": 'do not',
  "can't": 'cannot',
  "won't": 'will not',
  "i'm": 'i am',
};
const CONTRACTION =
  /\b(?:what|who|where|when|how|why|it|that|there)'s\b|\b(?:isn|aren|doesn|don|can|won)'t\b|\bi'm\b/gi;
const SINGLE_QUOTES = /[\u2018\u2019\u201B\u2032]/g;
const DOUBLE_QUOTES = /[\u201C\u201D\u201F\u2033]/g;
const QUOTES = /[\u2018\u2019\u201B\u2032\u201C\u201D\u201F\u2033]/;
const MAY_HOLD_DATE = /\d|day/i;
// Runs of whitespace, and single whitespace characters other than a space: replacing these with a
// space is what replacing every `\s+` run is, without rewriting each single space.
const SPACES = /\s{2,}|[^\S ]/g;
const TRAILING = /[\s.!?\u2026]+$/;
const TRAILING_CHAR = /[\s.!?\u2026]/;

/** Replaces dates, times and weekday names with placeholders. */
export function replaceDates(text: string): string {
  return text
    .replace(ISO_DATETIME, '<date>')
    .replace(NUMERIC_DATE, '<date>')
    .replace(MONTH_DATE, '<date>')
    .replace(TIME, '<time>')
    .replace(WEEKDAY, '<weekday>');
}

/** Expands the common English contractions (case-insensitive; the expansion is lower-case). */
export function expandContractions(text: string): string {
  if (!text.includes("'")) return text;
  return text.replace(CONTRACTION, (m) => CONTRACTIONS[m.toLowerCase()] ?? m);
}

/** Normalizes one message's text for the key. Assistant and tool text is never touched (it is data). */
export function normalizeText(text: string, role: Role, o: ResolvedNormalize): string {
  if (role === 'assistant' || role === 'tool') return text;
  let s = text;
  if (o.dates === 'all' || (o.dates === 'system' && (role === 'system' || role === 'developer'))) {
    // Every date, time and weekday pattern has a digit or "day" in it: skip five passes when neither is.
    if (MAY_HOLD_DATE.test(s)) s = replaceDates(s);
  }
  if (o.punctuation && QUOTES.test(s)) s = s.replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"');
  if (o.case) s = s.toLowerCase();
  if (o.contractions) s = expandContractions(s);
  if (o.whitespace) s = s.replace(SPACES, ' ').trim();
  // The end is only trimmed when it ends in one of those characters: test the last one first.
  if (o.punctuation && TRAILING_CHAR.test(s.charAt(s.length - 1))) s = s.replace(TRAILING, '');
  return s;
}

export function resolveNormalize(
  value: boolean | NormalizeOptions | undefined,
  fallback: boolean,
): ResolvedNormalize | undefined {
  if (value === undefined) return fallback ? DEFAULT_NORMALIZE : undefined;
  if (value === false) return undefined;
  if (value === true) return DEFAULT_NORMALIZE;
  return { ...DEFAULT_NORMALIZE, ...value };
}
