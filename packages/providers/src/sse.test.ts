import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent, SseParser, SseSyntaxError } from './sse.js';

const enc = new TextEncoder();

/** Feeds `parts` one by one, then ends; returns every event. */
function run(parts: (string | Uint8Array)[], options?: { strict?: boolean }): SseEvent[] {
  const parser = new SseParser(options);
  const out: SseEvent[] = [];
  for (const p of parts) {
    parser.feed(typeof p === 'string' ? enc.encode(p) : p);
    out.push(...parser.events);
    parser.events.length = 0;
  }
  parser.end();
  out.push(...parser.events);
  return out;
}

const data = (events: SseEvent[]) => events.map((e) => e.data);

describe('SseParser', () => {
  it('parses data events', () => {
    expect(run(['data: one\n\ndata: two\n\n'])).toEqual([
      { event: 'message', data: 'one', id: '' },
      { event: 'message', data: 'two', id: '' },
    ]);
  });

  it('joins multi-line data with \\n and keeps event, id and retry', () => {
    const parser = new SseParser();
    parser.feed(enc.encode('event: delta\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata:\n\n'));
    expect(parser.events).toEqual([{ event: 'delta', data: 'a\nb\n', id: '7' }]);
    expect(parser.retry).toBe(1500);
  });

  it('resets the event type after each event but keeps the last id', () => {
    expect(run(['event: x\nid: 1\ndata: a\n\ndata: b\n\n'])).toEqual([
      { event: 'x', data: 'a', id: '1' },
      { event: 'message', data: 'b', id: '1' },
    ]);
  });

  it('removes exactly one space after the colon', () => {
    expect(data(run(['data:no-space\n\ndata:  two-spaces\n\n']))).toEqual(['no-space', ' two-spaces']);
  });

  it('skips comments and blank lines without data', () => {
    expect(run([': keep-alive\n\n:another\n\n\n\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });

  it('does not dispatch an event type without data', () => {
    expect(run(['event: ping\n\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });

  it('treats a field line without a colon as a field with an empty value', () => {
    expect(run(['data\n\n'])).toEqual([{ event: 'message', data: '', id: '' }]);
  });

  it('ignores an id containing NUL', () => {
    expect(run(['id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n']).map((e) => e.id)).toEqual(['1', '1']);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('accepts %s line endings', (_name, eol) => {
    const text = `event: e${eol}data: a${eol}data: b${eol}${eol}data: c${eol}${eol}`;
    expect(run([text])).toEqual([
      { event: 'e', data: 'a\nb', id: '' },
      { event: 'message', data: 'c', id: '' },
    ]);
  });

  it('accepts mixed line endings', () => {
    expect(data(run(['data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r']))).toEqual(['a\nb\nc', 'd']);
  });

  it('treats \\r\\n split across chunks as one line ending', () => {
    // Were the \r and the \n two line endings, the blank line would end the event after "a".
    expect(data(run(['data: a\r', '\ndata: b\r', '\n\r', '\n']))).toEqual(['a\nb']);
  });

  it('treats \\r at the end of input, then a non-\\n, as a line ending', () => {
    expect(data(run(['data: a\r', 'data: b\r', '\r']))).toEqual(['a\nb']);
  });

  it('keeps a pending \\r across an input that decodes to nothing', () => {
    expect(data(run(['data: a\r', new Uint8Array(0), '\ndata: b\r', '', '\n\r\n']))).toEqual(['a\nb']);
  });

  it('reassembles a line split anywhere, including inside multi-byte characters', () => {
    const text =
      'event: message_start\r\ndata: {"t":"héllo wörld — 日本語 😀"}\r\n\r\n: comment\ndata: x\rdata: y\r\r' +
      'id: 42\ndata: 🎉🎉\n\ndata: [DONE]\n\n';
    const bytes = enc.encode(text);
    const expected = run([bytes]);
    expect(expected.map((e) => e.data)).toEqual(['{"t":"héllo wörld — 日本語 😀"}', 'x\ny', '🎉🎉', '[DONE]']);
    expect(expected[0]!.event).toBe('message_start');
    expect(expected[2]!.id).toBe('42');
    for (let i = 0; i <= bytes.length; i++) {
      expect(run([bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toEqual(expected);
    }
    for (let i = 0; i <= bytes.length; i += 3) {
      for (let j = i; j <= bytes.length; j += 5) {
        expect(run([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), `split at ${i},${j}`).toEqual(
          expected,
        );
      }
    }
    expect(run(Array.from(bytes, (b) => Uint8Array.of(b))), 'byte by byte').toEqual(expected);
  });

  it('decodes invalid UTF-8 as U+FFFD instead of failing', () => {
    expect(data(run([Uint8Array.of(...enc.encode('data: a'), 0xff, ...enc.encode('\n\n'))]))).toEqual(['a\uFFFD']);
  });

  it('strips a leading byte order mark', () => {
    expect(data(run([Uint8Array.of(0xef, 0xbb, 0xbf, ...enc.encode('data: a\n\n'))]))).toEqual(['a']);
  });

  it('accepts string input', () => {
    const parser = new SseParser();
    parser.feed('data: a\n');
    parser.feed('\n');
    expect(data(parser.events)).toEqual(['a']);
  });

  describe('end of input', () => {
    it('dispatches an event whose lines all arrived but whose blank line did not', () => {
      expect(data(run(['data: a\n\ndata: [DONE]\n']))).toEqual(['a', '[DONE]']);
    });

    it('drops an unterminated last line', () => {
      const parser = new SseParser();
      parser.feed(enc.encode('data: a\n\ndata: {"cut'));
      expect(parser.hasPartialLine).toBe(true);
      parser.end();
      expect(data(parser.events)).toEqual(['a']);
    });

    it('refuses input after end', () => {
      const parser = new SseParser();
      parser.end();
      expect(() => parser.feed('data: x\n\n')).toThrow(SseSyntaxError);
    });
  });

  describe('garbage', () => {
    it('throws SseSyntaxError on a line that is not a field, in strict mode', () => {
      expect(() => run(['<html>oops</html>\n'])).toThrow(SseSyntaxError);
      expect(() => run(['data: ok\n\n', 'this is not sse\n'])).toThrow(/not an event stream line/);
    });

    it('ignores unknown fields when not strict', () => {
      expect(data(run(['foo: bar\ndata: a\n\n'], { strict: false }))).toEqual(['a']);
    });

    it('throws on a line longer than maxLineLength', () => {
      const parser = new SseParser({ maxLineLength: 10 });
      parser.feed('data: 1234');
      expect(() => parser.feed('567890')).toThrow(/longer than 10/);
    });
  });
});

describe('parseSse', () => {
  async function* source(parts: string[]): AsyncGenerator<Uint8Array> {
    for (const p of parts) yield enc.encode(p);
  }

  it('yields events as each completes', async () => {
    const seen: string[] = [];
    for await (const e of parseSse(source(['data: a\n', '\ndata: b\n\n', 'data: c\n']))) seen.push(e.data);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('yields the first event before the source is exhausted', async () => {
    let pulled = 0;
    async function* slow(): AsyncGenerator<Uint8Array> {
      pulled++;
      yield enc.encode('data: first\n\n');
      pulled++;
      yield enc.encode('data: second\n\n');
    }
    const it = parseSse(slow())[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ data: 'first' });
    expect(pulled).toBe(1);
    await it.return(undefined);
  });

  it('closes the source when the reader stops early', async () => {
    let closed = false;
    async function* src(): AsyncGenerator<Uint8Array> {
      try {
        yield enc.encode('data: a\n\ndata: b\n\n');
        yield enc.encode('data: c\n\n');
      } finally {
        closed = true;
      }
    }
    for await (const e of parseSse(src())) {
      expect(e.data).toBe('a');
      break;
    }
    expect(closed).toBe(true);
  });
});
