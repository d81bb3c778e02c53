import { charCodeAt } from './string-primitives.js';

/**
 * Memo of token counts keyed by text, bounded by entry count and by total characters (texts are
 * whole messages, so a count limit alone could hold gigabytes), least recently used out first
 * (approximately: a hit refreshes an entry only once it is in the older half).
 *
 * Why not `Map<string, number>` keyed by the whole text: a server parses every request anew, so each
 * lookup would hash a fresh copy of every message, O(length), and that dominates counting a long
 * conversation whose texts are all known. Here the key is a number hashed from the text's length and
 * 32 of its characters (its ends and a spread over the middle), and a hit is confirmed by comparing
 * the stored text (`===`), so texts that agree on every sampled character only cost a longer chain,
 * never a wrong count. (A string key made of the text's two ends cost 3-5x more per lookup: two
 * slices, a concatenation, flattening it and hashing it natively.)
 */
export class TextMemo {
  /** Hash → chain of entries; Map order is recency order (oldest first). */
  private readonly buckets = new Map<number, Entry>();
  private entries = 0;
  private chars = 0;
  /** Ticks on every insertion or refresh; a bucket remembers the tick it was last moved at. */
  private clock = 0;
  /** The text `get` last missed, and its hash: `set` of that text right after does not hash it again. */
  private missedText: string | undefined;
  private missedHash = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get size(): number {
    return this.entries;
  }

  get(text: string): number | undefined {
    const hash = memoHash(text);
    const head = this.buckets.get(hash);
    for (let e = head; e !== undefined; e = e.next) {
      if (e.text === text) {
        this.hits++;
        // On the first hit, keep the caller's copy instead: the text stored on a miss may be a
        // concatenation (a streamed answer, `${text}\n`), which V8 compares in its runtime, 5-10x
        // slower than the flat strings JSON.parse makes; once is enough, as each swap is a write.
        if (!e.swapped) {
          e.text = text;
          e.swapped = true;
        }
        // Most recently used: move the bucket to the end of the Map's order, but only once it has
        // aged into the older half (a conversation re-reads the same recent texts on every call).
        if (this.clock - head!.stamp > this.entries >> 1) {
          this.buckets.delete(hash);
          this.buckets.set(hash, head!);
          head!.stamp = ++this.clock;
        }
        return e.count;
      }
    }
    this.misses++;
    this.missedText = text;
    this.missedHash = hash;
    return undefined;
  }

  set(text: string, count: number): void {
    if (this.maxEntries <= 0 || text.length > this.maxChars) return;
    const hash = text === this.missedText ? this.missedHash : memoHash(text);
    this.missedText = undefined;
    const head = this.buckets.get(hash);
    let chain = 0;
    for (let e = head; e !== undefined; e = e.next, chain++) {
      if (e.text === text) return;
      // Texts alike in every sampled character (a template filled with same-length values): keep the
      // chain short, so that a lookup never walks far; the oldest of them go.
      if (chain === MAX_CHAIN - 2 && e.next !== undefined) {
        for (let dropped: Entry | undefined = e.next; dropped !== undefined; dropped = dropped.next) {
          this.entries--;
          this.chars -= dropped.text.length;
        }
        e.next = undefined;
      }
    }
    this.buckets.delete(hash);
    this.buckets.set(hash, { text, count, next: head, stamp: ++this.clock, swapped: false });
    this.entries++;
    this.chars += text.length;
    while (this.entries > this.maxEntries || this.chars > this.maxChars) {
      const oldest = this.buckets.entries().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value[0]);
      for (let e: Entry | undefined = oldest.value[1]; e !== undefined; e = e.next) {
        this.entries--;
        this.chars -= e.text.length;
      }
    }
  }

  clear(): void {
    this.buckets.clear();
    this.entries = 0;
    this.chars = 0;
    this.missedText = undefined;
  }
}

interface Entry {
  text: string;
  count: number;
  next: Entry | undefined;
  /** Clock of the last move (meaningful on a bucket's head). */
  stamp: number;
  /** The text is a caller's copy from a hit, no longer the one stored on a miss. */
  swapped: boolean;
}

/** Most entries in one chain (texts with the same hash). */
const MAX_CHAIN = 8;
/** Characters hashed at each end of a text; shorter texts are hashed whole. */
const EDGE = 12;
/** Characters hashed from the middle of a longer text, evenly spread. */
const MIDDLE = 8;

/**
 * The memo key of a text: a small integer (a V8 Smi, hashed fast by `Map` and never boxed) from its
 * length and 32 of its characters, or all of them when it is short.
 */
export function memoHash(s: string): number {
  const length = s.length;
  let h = Math.imul(length, 0x9e3779b1);
  if (length <= 2 * EDGE + MIDDLE) {
    for (let i = 0; i < length; i++) h = mix(h, charCodeAt(s, i));
  } else {
    for (let i = 0; i < EDGE; i++) h = mix(h, charCodeAt(s, i));
    for (let i = length - EDGE; i < length; i++) h = mix(h, charCodeAt(s, i));
    const step = Math.floor((length - 2 * EDGE) / (MIDDLE + 1));
    for (let i = EDGE + step, k = 0; k < MIDDLE; k++, i += step) h = mix(h, charCodeAt(s, i));
  }
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** One FNV-1a step. */
function mix(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}
