import { charCodeAt, slice } from './string-primitives.js';

/**
 * Counts text piece by piece, remembering each piece's count. BPE never merges across the pieces the
 * encoding's pre-tokenization regex cuts a text into, so a text's count is the sum of its pieces'
 * counts, and the pieces (mostly words with their leading space) recur from text to text: a new message
 * of a conversation costs a scan for piece ends and a map lookup per piece, and BPE only for a piece
 * never seen before.
 *
 * New pieces go to the engine in as few calls as possible, as each call has a fixed cost (gpt-tokenizer:
 * about 0.35 us, three times its cost per piece inside a longer text): a text that is mostly new is
 * counted whole, its new pieces learnt on the way; a few new words are counted together, one per line;
 * anything else is counted piece by piece.
 */
export interface PieceCounterOptions {
  /** Tokens of one piece (the engine; called once per distinct piece while it stays cached). */
  countPiece(piece: string): number;
  /** Optional: the tokens of each piece of a text, in order, from one pass of the engine (cut by `split`). */
  encodePieces?(text: string): Iterable<ArrayLike<number>>;
  /** The engine's own pre-tokenization regex (any flags): it cuts whatever `pieceEnd` gives up on. */
  split: RegExp;
  /** Hand-written end of the piece starting at `start`, or -1 to let `split` decide. */
  pieceEnd(text: string, start: number): number;
  /** Pieces kept per generation and per kind (two generations are kept, so up to twice this). */
  generation?: number;
  /** Pieces longer than this are counted, not cached (they rarely recur). */
  maxPieceLength?: number;
}

export class PieceCounter {
  private readonly countPiece: (piece: string) => number;
  private readonly encodePieces: ((text: string) => Iterable<ArrayLike<number>>) | undefined;
  /** The token of "\n" alone, which separates the words counted together (-1: never together). */
  private readonly newline: number;
  private readonly pieceEnd: (text: string, start: number) => number;
  /** Matches only at `lastIndex` (sticky), on a copy, so the engine's own regex keeps its state. */
  private readonly sticky: RegExp;
  private readonly maxPieceLength: number;
  /** ASCII pieces of 2 to 4 characters (" the", "ing"), keyed by their packed characters: no string made. */
  private readonly short: Generations<number>;
  private readonly long: Generations<string>;
  /** The pieces the current `count` did not find: index among the text's pieces, start, end (reused). */
  private readonly missed: number[] = [];

  constructor(options: PieceCounterOptions) {
    this.countPiece = options.countPiece;
    this.encodePieces = options.encodePieces;
    const newline = this.encodePieces ? [...this.encodePieces('\n')] : [];
    this.newline = newline.length === 1 && newline[0]!.length === 1 ? newline[0]![0]! : -1;
    this.pieceEnd = options.pieceEnd;
    this.sticky = new RegExp(options.split.source, `${options.split.flags.replace(/[gy]/g, '')}y`);
    this.maxPieceLength = options.maxPieceLength ?? 32;
    const generation = options.generation ?? 16_384;
    this.short = new Generations(generation);
    this.long = new Generations(generation);
  }

  count(text: string): number {
    const missed = this.missed;
    missed.length = 0;
    const length = text.length;
    let tokens = 0;
    let pieces = 0;
    for (let start = 0, end = 0; start < length; start = end, pieces++) {
      end = this.pieceEnd(text, start);
      if (end < 0) end = this.regexPieceEnd(text, start);
      const key = end - start <= 4 ? shortKey(text, start, end) : -1;
      // A one-character ASCII piece is one byte, hence one token in any byte-level BPE.
      let n: number | undefined = 1;
      if (key >= 128) n = this.short.get(key);
      else if (key < 0) n = end - start <= this.maxPieceLength ? this.long.get(slice(text, start, end)) : undefined;
      if (n === undefined) missed.push(pieces, start, end);
      else tokens += n;
    }
    if (missed.length === 0) return tokens;
    if (this.encodePieces && (missed.length / 3) * 2 > pieces) return this.countWhole(text, pieces);
    if (this.newline >= 0 && missed.length > 3) tokens += this.countWords(text);
    for (let i = 0; i < missed.length; i += 3) {
      if (missed[i]! < 0) continue; // counted with the words
      const piece = slice(text, missed[i + 1]!, missed[i + 2]!);
      let n = this.cached(piece); // learnt a moment ago, when a new piece occurs twice in the text
      if (n === undefined) {
        n = this.countPiece(piece);
        this.remember(piece, n);
      }
      tokens += n;
    }
    return tokens;
  }

  /** The engine's count of the whole text; the counts of its missed pieces are learnt on the way. */
  private countWhole(text: string, pieces: number): number {
    const missed = this.missed;
    const learnt: number[] = [];
    let tokens = 0;
    let index = 0;
    for (const piece of this.encodePieces!(text)) {
      if (index === missed[learnt.length * 3]) learnt.push(piece.length);
      tokens += piece.length;
      index++;
    }
    // The engine cut the text as the scanner did (always, unless either has a bug): only then are the
    // counts known to belong to those pieces. The total is the engine's either way.
    if (index === pieces && learnt.length * 3 === missed.length) {
      for (let i = 0; i < learnt.length; i++) {
        this.remember(slice(text, missed[i * 3 + 1]!, missed[i * 3 + 2]!), learnt[i]!);
      }
    }
    return tokens;
  }

  /**
   * Counts the missed pieces that end with an ASCII letter or digit (new words and numbers) in one
   * engine call, one per line, and marks them counted (index -1). Such a piece holds no line break and
   * neither takes in the "\n" after it nor the one before it; the engine's answer proves it: only when
   * every other piece it returns is that lone "\n" token are the pieces between them the words.
   */
  private countWords(text: string): number {
    const missed = this.missed;
    const words: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < missed.length; i += 3) {
      const last = charCodeAt(text, missed[i + 2]! - 1);
      if (last < 128 && WORD_END[last] === 1) {
        words.push(slice(text, missed[i + 1]!, missed[i + 2]!));
        at.push(i);
      }
    }
    if (words.length < 2) return 0;
    const counts: number[] = [];
    let odd = false;
    for (const piece of this.encodePieces!(words.join('\n'))) {
      if (odd && (piece.length !== 1 || piece[0] !== this.newline)) return 0;
      if (!odd) counts.push(piece.length);
      odd = !odd;
    }
    if (counts.length !== words.length) return 0;
    let tokens = 0;
    for (let w = 0; w < words.length; w++) {
      this.remember(words[w]!, counts[w]!);
      missed[at[w]!] = -1;
      tokens += counts[w]!;
    }
    return tokens;
  }

  /** Pieces cached. */
  get size(): number {
    return this.short.size + this.long.size;
  }

  clear(): void {
    this.short.clear();
    this.long.clear();
  }

  private regexPieceEnd(text: string, start: number): number {
    this.sticky.lastIndex = start;
    const match = this.sticky.exec(text);
    // The regex matches at every position of any text. Were it not to, the rest of the text would go to
    // the engine as one "piece", which it splits itself: still its exact count, only uncached.
    return match ? start + match[0].length : text.length;
  }

  private cached(piece: string): number | undefined {
    const key = piece.length <= 4 ? shortKey(piece, 0, piece.length) : -1;
    return key >= 0 ? this.short.get(key) : this.long.get(piece);
  }

  private remember(piece: string, n: number): void {
    if (piece.length > this.maxPieceLength) return;
    const key = piece.length <= 4 ? shortKey(piece, 0, piece.length) : -1;
    if (key >= 0) this.short.set(key, n);
    else this.long.set(piece, n);
  }
}

/** 1 for the ASCII letters and digits: a piece ending with one can be counted among other words. */
const WORD_END = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) WORD_END[c] = 1;
}

/** Where the packed keys of 1, 2, 3 and 4 characters start: disjoint ranges, all below 2^30 (a V8 Smi). */
const SHORT_KEY_BASE = [0, 0, 1 << 7, (1 << 7) + (1 << 14), (1 << 7) + (1 << 14) + (1 << 21)];

/** The piece's 7-bit characters packed into one number, or -1 when a character is not ASCII. */
function shortKey(text: string, start: number, end: number): number {
  let key = 0;
  for (let i = start; i < end; i++) {
    const c = charCodeAt(text, i);
    if (c >= 128) return -1;
    key = (key << 7) | c;
  }
  return key + SHORT_KEY_BASE[end - start]!;
}

/**
 * A map bounded by generations rather than LRU order: new entries go to `young`; when it is full it
 * becomes `old` (the previous `old` is dropped) and a hit in `old` is copied back into `young`. No
 * per-hit bookkeeping, and what is still in use survives every turnover.
 */
class Generations<K> {
  private young = new Map<K, number>();
  private old = new Map<K, number>();

  constructor(private readonly generation: number) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): number | undefined {
    const n = this.young.get(key);
    if (n !== undefined) return n;
    const old = this.old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, n: number): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, n);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
