import { charCodeAt } from './string-primitives.js';

/**
 * o200k_base's pre-tokenization (the regex that cuts text into the pieces BPE then encodes one by one),
 * hand-written for ASCII. The regex, with Unicode property classes, costs about as much as the rest of
 * counting a text whose pieces are all cached; this scanner decides the same pieces several times
 * faster. Wherever a non-ASCII character would decide where a piece ends it gives up (returns -1), and
 * the caller lets the regex cut that one piece.
 *
 * The regex's alternatives, in priority order (the first that matches at a position wins):
 *   1. [^\r\n\p{L}\p{N}]? [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]* [\p{Ll}\p{Lm}\p{Lo}\p{M}]+ contraction?
 *   2. [^\r\n\p{L}\p{N}]? [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+ [\p{Ll}\p{Lm}\p{Lo}\p{M}]* contraction?
 *   3. \p{N}{1,3}
 *   4. ' '? [^\s\p{L}\p{N}]+ [\r\n/]*
 *   5. \s*[\r\n]+    6. \s+(?!\S)    7. \s+
 * where contraction is '(s|d|m|t|ll|ve|re), any case. In ASCII the letter classes are just A-Z and a-z,
 * so 1 and 2 together read: an optional prefix, capitals, then lower case letters, then a contraction.
 */

const UPPER = 1;
const LOWER = 2;
const LETTER = UPPER | LOWER;
const DIGIT = 4;
/** JavaScript's `\s` in ASCII: \t \n \v \f \r and space. */
const SPACE = 8;
const NEWLINE = 16;
/** Neither space, letter nor digit: punctuation, symbols, control characters. */
const OTHER = 32;

const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 65 && c <= 90) CLASS[c] = UPPER;
  else if (c >= 97 && c <= 122) CLASS[c] = LOWER;
  else if (c >= 48 && c <= 57) CLASS[c] = DIGIT;
  else if (c === 10 || c === 13) CLASS[c] = SPACE | NEWLINE;
  else if (c === 9 || c === 11 || c === 12 || c === 32) CLASS[c] = SPACE;
  else CLASS[c] = OTHER;
}

const APOSTROPHE = 39;
const SLASH = 47;

/**
 * End of the piece that starts at `start` (exclusive), or -1 when a non-ASCII character decides it.
 * `start` must be where a piece starts (0, or the end of the previous piece).
 */
export function o200kPieceEnd(text: string, start: number): number {
  const length = text.length;
  const c = charCodeAt(text, start);
  if (c >= 128) return -1;
  const kind = CLASS[c]!;
  if (kind & LETTER) return letters(text, start);
  if (kind & DIGIT) return digits(text, start);
  if (kind & NEWLINE) return whitespace(text, start);
  // Space, tab or punctuation: it prefixes a following word (alternatives 1 and 2).
  if (start + 1 === length) return start + 1;
  const next = charCodeAt(text, start + 1);
  if (next >= 128) return -1;
  const nextKind = CLASS[next]!;
  if (nextKind & LETTER) return letters(text, start + 1);
  // Punctuation, with an optional leading space (alternative 4).
  if (kind & OTHER || (c === 32 && nextKind & OTHER)) return punctuation(text, start + 1);
  return whitespace(text, start);
}

/**
 * The end of the run of ASCII characters of class `mask` from `from` (at most to `limit`); -1 when it
 * meets a non-ASCII character.
 */
function classRun(text: string, from: number, limit: number, mask: number): number {
  let end = from;
  for (; end < limit; end++) {
    const c = charCodeAt(text, end);
    if (c >= 128) return -1;
    if (!(CLASS[c]! & mask)) break;
  }
  return end;
}

/** Capitals then lower case letters (at least one letter at `from`), then a contraction. */
function letters(text: string, from: number): number {
  const capitals = classRun(text, from, text.length, UPPER);
  if (capitals < 0) return -1;
  const end = classRun(text, capitals, text.length, LOWER);
  if (end < 0) return -1;
  if (charCodeAt(text, end) !== APOSTROPHE) return end;
  // `| 32` lowers an ASCII capital; NaN past the end becomes 32, which matches nothing.
  const a = charCodeAt(text, end + 1) | 32;
  if (a === 115 || a === 100 || a === 109 || a === 116) return end + 2; // 's 'd 'm 't
  const b = charCodeAt(text, end + 2) | 32;
  if ((a === 108 && b === 108) || ((a === 118 || a === 114) && b === 101)) return end + 3; // 'll 've 're
  return end;
}

/** One to three digits. */
function digits(text: string, from: number): number {
  return classRun(text, from + 1, Math.min(from + 3, text.length), DIGIT);
}

/** The rest of a punctuation run (its first character is before `from`), then line breaks and slashes. */
function punctuation(text: string, from: number): number {
  const length = text.length;
  let end = classRun(text, from, length, OTHER);
  if (end < 0) return -1;
  for (; end < length; end++) {
    const c = charCodeAt(text, end);
    if (c !== 10 && c !== 13 && c !== SLASH) break;
  }
  return end;
}

/**
 * Whitespace: up to its last line break when it has one (alternative 5); else all of it at the end of
 * the text, or all but its last character, which goes with what follows (6); else one character (7).
 */
function whitespace(text: string, from: number): number {
  const length = text.length;
  let end = from;
  let lastBreak = -1;
  for (; end < length; end++) {
    const c = charCodeAt(text, end);
    if (c >= 128) return -1; // no-break space and others are whitespace too
    const kind = CLASS[c]!;
    if (!(kind & SPACE)) break;
    if (kind & NEWLINE) lastBreak = end;
  }
  if (lastBreak >= 0) return lastBreak + 1;
  if (end === length || end - from === 1) return end;
  return end - 1;
}
