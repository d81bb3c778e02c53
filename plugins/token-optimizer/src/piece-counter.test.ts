import { createRequire } from 'node:module';
import { countTokens, encodeGenerator } from 'gpt-tokenizer/encoding/o200k_base';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/prng.js';
import { o200kPieceEnd } from './o200k-pieces.js';
import { PieceCounter } from './piece-counter.js';
import { gptTokenizerEncoder } from './tokenizer.js';

const require = createRequire(import.meta.url);
const { O200K_TOKEN_SPLIT_REGEX } = require('gpt-tokenizer/encodingParams/constants') as {
  O200K_TOKEN_SPLIT_REGEX: RegExp;
};
const ORDINARY = { disallowedSpecial: new Set<string>() };
const engine = (text: string) => countTokens(text, ORDINARY);
const jsTiktoken = getEncoding('o200k_base');

const texts = [
  "It's the gateway's job: route, retry and cache. We'd rather NOT fail -- the user's 3 requests (12,345 tokens).",
  'export function f(a: number): string {\n  return String(a); // x/y\n}\n\n\n    const X_Y = [1, 22, 333, 4444];\n',
  'Le petit prince regarda la planète. 小さな王子は星を見た。 “Quoted” — naïve café, ½ cup, 😀 emoji\u00a0nbsp.',
  'What does <|endoftext|> mean, and <|im_start|>?   \r\n\t  ',
  `${'='.repeat(300)} ${'a'.repeat(100)}${'B'.repeat(50)} 1234567890 ${'\n'.repeat(40)}`,
];

describe('PieceCounter: counts text as the sum of its cached pieces', () => {
  it('counts exactly what the engine counts for the whole text, and what js-tiktoken counts', () => {
    const pieces = new PieceCounter({ countPiece: engine, split: O200K_TOKEN_SPLIT_REGEX, pieceEnd: o200kPieceEnd });
    for (let round = 0; round < 2; round++) {
      for (const text of texts) {
        expect(pieces.count(text), JSON.stringify(text)).toBe(engine(text));
        expect(pieces.count(text)).toBe(jsTiktoken.encode(text, [], []).length);
      }
    }
    // The whole corpus again as one text: every piece cached by now.
    const all = texts.join('\n');
    expect(pieces.count(all)).toBe(engine(all));
    // Random mixes of the same texts' characters (seeded, reproducible).
    const chars = [...all];
    const next = seededRandom(7);
    for (let i = 0; i < 2_000; i++) {
      let text = '';
      for (let n = 1 + Math.floor(next() * 40); n > 0; n--) text += chars[Math.floor(next() * chars.length)];
      expect(pieces.count(text), JSON.stringify(text)).toBe(engine(text));
    }
  });

  it('calls the engine once per distinct piece, and not for long pieces it does not cache', () => {
    const seen: string[] = [];
    const pieces = new PieceCounter({
      countPiece: (piece) => {
        seen.push(piece);
        return engine(piece);
      },
      split: O200K_TOKEN_SPLIT_REGEX,
      pieceEnd: o200kPieceEnd,
      maxPieceLength: 8,
    });
    pieces.count('the cat and the dog and the bird');
    // One-character ASCII pieces are one token without asking the engine.
    expect(seen).toEqual(['the', ' cat', ' and', ' the', ' dog', ' bird']);
    pieces.count('é, the 7 cats');
    expect(seen.slice(6)).toEqual(['é', ' cats']);
    seen.length = 0;
    pieces.count(' and the cat, extraordinarily');
    expect(seen).toEqual([' extraordinarily']);
    pieces.count(' extraordinarily');
    expect(seen).toEqual([' extraordinarily', ' extraordinarily']);
  });

  it('keeps at most two generations of pieces, and what is still in use survives a turnover', () => {
    const calls = new Map<string, number>();
    const pieces = new PieceCounter({
      countPiece: (piece) => {
        calls.set(piece, (calls.get(piece) ?? 0) + 1);
        return engine(piece);
      },
      split: O200K_TOKEN_SPLIT_REGEX,
      pieceEnd: o200kPieceEnd,
      generation: 4,
    });
    const letters = 'abcdefghijklmnopqrst';
    for (let i = 0; i < 20; i++) {
      // ' worda' ... ' wordt' come and go; ' keepalive' is used every time.
      const text = ` keepalive word${letters[i]}`;
      expect(pieces.count(text)).toBe(engine(text));
      expect(pieces.size).toBeLessThanOrEqual(8);
    }
    expect(calls.get(' keepalive')).toBe(1);
    // Short ASCII pieces (2 to 4 characters) have generations of their own.
    for (let i = 0; i < 20; i++) expect(pieces.count(` ok ${i + 10}`)).toBe(engine(` ok ${i + 10}`));
    expect(pieces.size).toBeLessThanOrEqual(16);
    expect(calls.get(' ok')).toBe(1);
    pieces.clear();
    expect(pieces.size).toBe(0);
  });

  it('asks the engine for new pieces in few calls: a mostly new text whole, new words together, the rest alone', () => {
    const calls: string[] = [];
    const pieces = new PieceCounter({
      countPiece: (piece) => {
        calls.push(`piece ${JSON.stringify(piece)}`);
        return engine(piece);
      },
      encodePieces: (text) => {
        calls.push(`pass ${JSON.stringify(text)}`);
        return encodeGenerator(text, ORDINARY);
      },
      split: O200K_TOKEN_SPLIT_REGEX,
      pieceEnd: o200kPieceEnd,
    });
    expect(calls).toEqual(['pass "\\n"']); // the separator's token, once
    calls.length = 0;
    const first = 'Tokenization splits text into pieces before byte pair encoding merges them.';
    expect(pieces.count(first)).toBe(engine(first));
    expect(calls).toEqual([`pass ${JSON.stringify(first)}`]);
    calls.length = 0;
    expect(pieces.count(first)).toBe(engine(first));
    expect(calls).toEqual([]);
    // Two new words, and a new punctuation piece: the words in one call, the punctuation alone.
    const second = 'Tokenization splits text into pieces before byte pair encoding merges words?! Quickly.';
    expect(pieces.count(second)).toBe(engine(second));
    expect(calls).toEqual(['pass " words\\n Quickly"', 'piece "?!"']);
    calls.length = 0;
    // One new word: alone.
    const third = 'Tokenization splits text into pieces before byte pair encoding merges sentences.';
    expect(pieces.count(third)).toBe(engine(third));
    expect(calls).toEqual(['piece " sentences"']);
  });

  it('learns nothing from an engine pass that cut the text differently, and returns its total', () => {
    const pieces = new PieceCounter({
      countPiece: engine,
      // A broken engine that sees the whole text as one piece.
      encodePieces: (text) => [{ length: engine(text), 0: 0 }],
      split: O200K_TOKEN_SPLIT_REGEX,
      pieceEnd: o200kPieceEnd,
    });
    const text = 'Every piece here is new to the counter.';
    expect(pieces.count(text)).toBe(engine(text));
    expect(pieces.size).toBe(0);
  });

  it('counts new words one by one when the engine does not answer them one per line', () => {
    const single: string[] = [];
    const pieces = new PieceCounter({
      countPiece: (piece) => {
        single.push(piece);
        return engine(piece);
      },
      // Right for the separator and for whole texts; for the words it merges the line breaks away.
      encodePieces: (text) => (text.includes('\n') && text !== '\n' ? [[0], [0]] : encodeGenerator(text, ORDINARY)),
      split: O200K_TOKEN_SPLIT_REGEX,
      pieceEnd: o200kPieceEnd,
    });
    const known = 'one two three four five six seven eight nine ten';
    pieces.count(known);
    const text = `${known} eleven twelve`;
    expect(pieces.count(text)).toBe(engine(text));
    expect(single).toEqual([' eleven', ' twelve']);
  });

  it('is the default engine for o200k_base, with the same counts as gpt-tokenizer', () => {
    const encoder = gptTokenizerEncoder('o200k_base');
    for (const text of texts) expect(encoder.count(text)).toBe(engine(text));
    // Random mixes of words and characters: new pieces learnt from whole passes, then known ones.
    const words = texts.join(' ').split(/(?=[ \n])/);
    const next = seededRandom(11);
    for (let i = 0; i < 1_000; i++) {
      let text = '';
      for (let n = 1 + Math.floor(next() * 30); n > 0; n--) {
        const word = words[Math.floor(next() * words.length)]!;
        text += next() < 0.2 ? word.slice(Math.floor(next() * word.length)) : word;
      }
      expect(encoder.count(text), JSON.stringify(text)).toBe(engine(text));
    }
    encoder.free?.();
  });
});
