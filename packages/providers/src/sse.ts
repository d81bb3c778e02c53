/**
 * Server-sent events parser (WHATWG HTML "event stream interpretation") working on a byte stream.
 *
 * - decodes UTF-8 with a streaming `TextDecoder`, so a multi-byte character split across chunks is fine;
 * - accepts `\n`, `\r\n` and `\r` line endings, including a `\r\n` split across two chunks;
 * - joins multi-line `data:` fields with `\n`, honours `event:`, `id:` and `retry:`, skips `:` comments;
 * - a line split across chunks is kept until its end arrives.
 *
 * Strict mode (the default) rejects lines that are not an SSE field (`data`, `event`, `id`, `retry`), which the
 * spec would silently ignore: for an LLM API that means the body is not an event stream at all (an HTML error
 * page, a JSON body), and failing fast beats waiting for a terminator that never comes.
 */

export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last event id seen on the stream (`''` if none). */
  readonly id: string;
}

export interface SseParserOptions {
  /** Throw `SseSyntaxError` on lines that are not SSE fields. Default `true`. */
  strict?: boolean;
  /** Longest line accepted before the stream is declared garbage, in UTF-16 units. Default 16 MiB. */
  maxLineLength?: number;
}

/** The byte stream is not a valid event stream. */
export class SseSyntaxError extends Error {
  override name = 'SseSyntaxError';
  /** The offending line (or its start, for an over-long one). May hold anything the server sent. */
  readonly line: string;
  constructor(message: string, line = '') {
    super(message);
    this.line = line;
  }
}

const LF = 10;
const SPACE = 32;

/**
 * Incremental parser. `feed()` appends complete events to `events`; the reader drains that array
 * (`events.length = 0`) after handling them. One array per stream, no callback per event.
 */
export class SseParser {
  /** Events completed by the input fed so far and not yet drained by the reader. */
  readonly events: SseEvent[] = [];
  /** The last `retry:` value, in ms, if the stream sent one. */
  retry: number | undefined;

  private readonly decoder = new TextDecoder();
  private readonly strict: boolean;
  private readonly maxLineLength: number;
  /** Start of a line whose end has not arrived yet. */
  private partial = '';
  /** The previous input ended in `\r`: a `\n` at the start of the next one belongs to it. */
  private skipLF = false;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastId = '';
  /** `end()` was called. */
  private ended = false;

  constructor(options: SseParserOptions = {}) {
    this.strict = options.strict ?? true;
    this.maxLineLength = options.maxLineLength ?? 16 * 1024 * 1024;
  }

  /** Feeds bytes (or already decoded text). Throws `SseSyntaxError` on garbage in strict mode. */
  feed(chunk: Uint8Array | string): void {
    if (this.ended) throw new SseSyntaxError('feed() after end()');
    this.process(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  /**
   * The input is over. An unterminated last line is discarded (it may be cut); an event whose lines all
   * arrived but whose closing blank line did not is dispatched, since some servers end with a single `\n`.
   */
  end(): void {
    if (this.ended) return;
    const rest = this.decoder.decode();
    if (rest.length > 0) this.process(rest);
    this.ended = true;
    this.partial = '';
    this.dispatch();
  }

  /** Bytes of an unterminated line are waiting. */
  get hasPartialLine(): boolean {
    return this.partial.length > 0;
  }

  private process(text: string): void {
    const len = text.length;
    if (len === 0) return;
    let start = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        next = cr + 1;
        if (next < len) {
          if (text.charCodeAt(next) === LF) next++;
        } else {
          this.skipLF = true;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      if (this.partial.length > 0) {
        const line = this.partial + text.slice(start, end);
        this.partial = '';
        this.line(line);
      } else {
        this.line(start === end ? '' : text.slice(start, end));
      }
      start = next;
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
    }
    if (start < len) {
      this.partial = this.partial.length > 0 ? this.partial + text.slice(start) : text.slice(start);
      if (this.partial.length > this.maxLineLength) {
        const start = this.partial.slice(0, 200);
        this.partial = '';
        throw new SseSyntaxError(`event stream line longer than ${this.maxLineLength} characters`, start);
      }
    }
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // comment
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      const from = line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      value = from >= line.length ? '' : line.slice(from);
    }
    switch (field) {
      case 'data':
        if (this.hasData) this.data += `\n${value}`;
        else {
          this.data = value;
          this.hasData = true;
        }
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        return;
      default:
        if (this.strict) {
          throw new SseSyntaxError(
            `not an event stream line: ${JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)}`,
            line,
          );
        }
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      this.events.push({ event: this.eventType === '' ? 'message' : this.eventType, data: this.data, id: this.lastId });
      this.data = '';
      this.hasData = false;
    }
    this.eventType = '';
  }
}

/** Parses a byte stream (an undici body, a `ReadableStream`, any async iterable) into events as they complete. */
export async function* parseSse(
  source: AsyncIterable<Uint8Array | string>,
  options?: SseParserOptions,
): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser(options);
  const events = parser.events;
  for await (const chunk of source) {
    parser.feed(chunk);
    if (events.length > 0) {
      for (let i = 0; i < events.length; i++) yield events[i]!;
      events.length = 0;
    }
  }
  parser.end();
  for (let i = 0; i < events.length; i++) yield events[i]!;
  events.length = 0;
}
