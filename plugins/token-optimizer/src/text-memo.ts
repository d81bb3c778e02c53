/**
 * Memo of token counts keyed by text, bounded by entry count and by total characters (texts are
 * whole messages, so a count limit alone could hold gigabytes), least recently used out first
 * (approximately: a hit refreshes an entry only once it is in the older half).
 *
 * Why not `Map<string, number>` keyed by the whole text: a server parses every request anew, so each
 * lookup would hash a fresh copy of every message, O(length), and that dominates counting a long
 * conversation whose texts are all known. Here the key is the text's first and last 24 characters
 * (hashed natively by the Map, whatever V8's string representation), and a hit is confirmed by
 * comparing the stored text (`===`, a memcmp), so texts that share their ends only cost a longer
 * chain, never a wrong count. (A JS hash loop over `charCodeAt` was faster on uniform input but
 * four times slower once it had seen the mix of string representations real callers pass.)
 */
export class TextMemo {
  /** Key (both ends of the text) → chain of entries; Map order is recency order (oldest first). */
  private readonly buckets = new Map<string, Entry>();
  private entries = 0;
  private chars = 0;
  /** Ticks on every insertion or refresh; a bucket remembers the tick it was last moved at. */
  private clock = 0;
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
    const key = memoKey(text);
    const head = this.buckets.get(key);
    for (let e = head; e !== undefined; e = e.next) {
      if (e.text === text) {
        this.hits++;
        // Most recently used: move the bucket to the end of the Map's order, but only once it has
        // aged into the older half (a conversation re-reads the same recent texts on every call).
        if (this.clock - head!.stamp > this.entries >> 1) {
          this.buckets.delete(key);
          this.buckets.set(key, head!);
          head!.stamp = ++this.clock;
        }
        return e.count;
      }
    }
    this.misses++;
    return undefined;
  }

  set(text: string, count: number): void {
    if (this.maxEntries <= 0 || text.length > this.maxChars) return;
    const key = memoKey(text);
    const head = this.buckets.get(key);
    for (let e = head; e !== undefined; e = e.next) if (e.text === text) return;
    this.buckets.delete(key);
    this.buckets.set(key, { text, count, next: head, stamp: ++this.clock });
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
  }
}

interface Entry {
  text: string;
  count: number;
  next: Entry | undefined;
  /** Clock of the last move (meaningful on a bucket's head). */
  stamp: number;
}

const EDGE = 24;

/** The memo key of a text: the text itself when short, else its first and last 24 characters. */
export function memoKey(s: string): string {
  return s.length <= 2 * EDGE ? s : s.slice(0, EDGE) + s.slice(-EDGE);
}
