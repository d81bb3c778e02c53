import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/prng.js';
import { o200kPieceEnd } from './o200k-pieces.js';

const require = createRequire(import.meta.url);
const { O200K_TOKEN_SPLIT_REGEX } = require('gpt-tokenizer/encodingParams/constants') as {
  O200K_TOKEN_SPLIT_REGEX: RegExp;
};

/** The scanner's pieces, the regex cutting only where the scanner gives up; and how often it did. */
function scanned(text: string): { pieces: string[]; regexCuts: number } {
  const sticky = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'uy');
  const pieces: string[] = [];
  let regexCuts = 0;
  for (let start = 0; start < text.length; ) {
    let end = o200kPieceEnd(text, start);
    if (end < 0) {
      regexCuts++;
      sticky.lastIndex = start;
      end = start + sticky.exec(text)![0].length;
    }
    pieces.push(text.slice(start, end));
    start = end;
  }
  return { pieces, regexCuts };
}

const byRegex = (text: string) => [...text.matchAll(O200K_TOKEN_SPLIT_REGEX)].map((m) => m[0]);

/** Fragments where the regex's alternatives meet: cases, contractions, digits, every ASCII space, slashes. */
const ASCII_FRAGMENTS = [
  ...'a z word A Z WORD Word wORD 0 7 12345 / // . , - ( ) " => {} <|endoftext|>'.split(' '),
  ...["'", "'s", "'S", "'t", "'ll", "'LL", "'lx", "'ve", "'Re", "'d", "'m", "'x"],
  ...[' ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\v', '\f', '\u0000', '\u001f', '\u007f'],
];
/** Non-ASCII letters, marks, digits, spaces and punctuation: where the scanner must hand over. */
const UNICODE_FRAGMENTS = [
  ...['é', 'É', 'ǅ', 'ʰ', '\u0301', '中文', '😀', '²', '١'],
  ...['\u00a0', '\u2028', '\ufeff', '\u0085', '—', '“', '’', '…'],
];

function randomText(next: () => number, fragments: readonly string[], maxFragments: number): string {
  let text = '';
  const n = 1 + Math.floor(next() * maxFragments);
  for (let i = 0; i < n; i++) text += fragments[Math.floor(next() * fragments.length)];
  return text;
}

describe('o200kPieceEnd: the o200k_base split regex, hand-written for ASCII', () => {
  it('cuts ASCII text exactly where the regex does, without the regex', () => {
    const next = seededRandom(1);
    for (let i = 0; i < 20_000; i++) {
      const text = randomText(next, ASCII_FRAGMENTS, 16);
      const { pieces, regexCuts } = scanned(text);
      expect(pieces, JSON.stringify(text)).toEqual(byRegex(text));
      expect(regexCuts).toBe(0);
    }
  });

  it('hands non-ASCII decisions to the regex, so mixed text is cut exactly as the regex does', () => {
    const next = seededRandom(2);
    const fragments = [...ASCII_FRAGMENTS, ...UNICODE_FRAGMENTS];
    let regexCuts = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = randomText(next, fragments, 16);
      const s = scanned(text);
      expect(s.pieces, JSON.stringify(text)).toEqual(byRegex(text));
      regexCuts += s.regexCuts;
    }
    expect(regexCuts).toBeGreaterThan(0);
  });

  it('cuts prose and code as the regex does', () => {
    const prose =
      "It's the gateway's job: route, retry and cache. We'd rather NOT fail -- the user's 3 requests (12,345 tokens)\n\n" +
      '  cost $0.42/day.\r\n\tDONE.   Next:   https://example.com/a/b?c=1&d=2 ';
    const code =
      'export function f(a: number): string {\n  return String(a); // x/y\n}\n\n\n    const X_Y = [1, 22, 333, 4444];\n';
    for (const text of [prose, code, prose + code]) {
      const { pieces, regexCuts } = scanned(text);
      expect(pieces).toEqual(byRegex(text));
      expect(regexCuts).toBe(0);
    }
  });
});
