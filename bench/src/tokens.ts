/**
 * bench/tokens: what token counting costs.
 *
 * 1. Throughput (MB/s of UTF-8) on real English prose and real TypeScript (bench/data), counted per
 *    paragraph / ~2 KB chunk as messages are, with o200k_base in
 *      tiktoken       the WASM package (`encode_ordinary`; the optimizer's `tiktokenEncoder`),
 *      gpt-tokenizer  pure JS (`countTokens`), with its merge cache as shipped, and cold (cache cleared per pass),
 *      js-tiktoken    pure JS port of tiktoken (`encode`),
 *    and the optimizer's default engine (`gptTokenizerEncoder`: gpt-tokenizer behind a piece cache, each
 *    text cut into its pre-tokenization pieces by a hand-written ASCII scanner, each piece's count
 *    remembered), warm and with its piece cache emptied per pass.
 *    Every chunk's count must be identical in all of them, or the benchmark fails.
 * 2. Counting a growing 20-turn conversation (the prompt of call k = system + k-1 turns + a new user
 *    message, rebuilt as fresh objects as a server parsing each request sees them) with the optimizer's
 *    TokenCounter, without and with memoization. The new text of call k is the previous answer plus the
 *    new question (about 840 characters); with the answer pre-counted (what the plugin does after each
 *    response) only the question is new (about 420). Target (issue 6): with memoization, counting adds
 *    <= 20 us per call for a new turn of typical size. Rows for gpt-tokenizer without the piece cache
 *    (the engine before the cache) and for a counter emptied before each conversation (nothing known
 *    but what the conversation itself repeats) show where the time goes; every mode's counts must equal
 *    the unmemoized tiktoken counts, call by call.
 * Modes are interleaved per round / per conversation so that drift hits them alike.
 * Knobs: BENCH_TOKENS_ROUNDS (5), BENCH_TOKENS_PASS_MS (300), BENCH_TOKENS_CONVERSATIONS (40),
 * BENCH_TOKENS_TURN_CHARS (cut messages to this length; default whole paragraphs, ~400 characters).
 */

import { readFileSync } from 'node:fs';
import type { ChatMessage } from '@flowgate/core';
import {
  type EncoderFactory,
  type EncodingCounter,
  gptTokenizerEncoder,
  TokenCounter,
  tiktokenEncoder,
} from '@flowgate/plugin-token-optimizer';
import * as gptTokenizer from 'gpt-tokenizer/encoding/o200k_base';
import { getEncoding } from 'js-tiktoken';
import { get_encoding } from 'tiktoken';
import { progress } from './lib/progress.js';
import { fmt, median, summarize, table } from './lib/stats.js';

export const about = 'token counting: tiktoken vs gpt-tokenizer vs js-tiktoken MB/s, memoized conversation counting';

const ROUNDS = Number(process.env.BENCH_TOKENS_ROUNDS ?? 5);
const PASS_MS = Number(process.env.BENCH_TOKENS_PASS_MS ?? 300);
const CONVERSATIONS = Number(process.env.BENCH_TOKENS_CONVERSATIONS ?? 40);
/** Cut each message of the conversation to this many characters (default: whole paragraphs, ~400). */
const TURN_CHARS = Number(process.env.BENCH_TOKENS_TURN_CHARS ?? 0);
const TURNS = 20;

interface Corpus {
  name: string;
  chunks: string[];
  bytes: number;
}

interface Tokenizer {
  name: string;
  /** A tokenizer library as published (the engine choice), or the optimizer's engine built on one. */
  kind: 'library' | 'optimizer';
  count(text: string): number;
  /** Called before each timed pass over a corpus. */
  beforePass?(): void;
}

function load(file: string): string {
  return readFileSync(new URL(`../data/${file}`, import.meta.url), 'utf8');
}

/** Code split at line ends into chunks of about 2 KB (a message-sized piece of a source file). */
function codeChunks(text: string): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    current += `${line}\n`;
    if (current.length >= 2048) {
      chunks.push(current);
      current = '';
    }
  }
  if (current) chunks.push(current);
  return chunks;
}

function corpus(name: string, chunks: string[]): Corpus {
  return { name, chunks, bytes: chunks.reduce((n, c) => n + Buffer.byteLength(c), 0) };
}

/** Counts the corpus again and again for `ms`; returns MB/s. */
function throughput(t: Tokenizer, c: Corpus, ms: number): number {
  let bytes = 0;
  let sink = 0;
  const start = performance.now();
  const end = start + ms;
  do {
    t.beforePass?.();
    for (const chunk of c.chunks) sink += t.count(chunk);
    bytes += c.bytes;
  } while (performance.now() < end);
  const seconds = (performance.now() - start) / 1000;
  if (sink < 0) throw new Error('unreachable');
  return bytes / 1e6 / seconds;
}

export async function main(): Promise<void> {
  const paragraphs = load('prose.txt')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  const corpora = [corpus('prose', paragraphs), corpus('code', codeChunks(load('code.txt')))];

  const wasm = get_encoding('o200k_base');
  const js = getEncoding('o200k_base');
  const engine = gptTokenizerEncoder('o200k_base');
  let coldEngine: EncodingCounter = gptTokenizerEncoder('o200k_base');
  const tokenizers: Tokenizer[] = [
    { name: 'tiktoken (WASM)', kind: 'library', count: (s) => wasm.encode_ordinary(s).length },
    { name: 'gpt-tokenizer', kind: 'library', count: (s) => gptTokenizer.countTokens(s) },
    {
      name: 'gpt-tokenizer, cold cache',
      kind: 'library',
      count: (s) => gptTokenizer.countTokens(s),
      beforePass: () => gptTokenizer.clearMergeCache(),
    },
    { name: 'js-tiktoken', kind: 'library', count: (s) => js.encode(s).length },
    { name: 'default engine (piece cache)', kind: 'optimizer', count: (s) => engine.count(s) },
    {
      name: 'default engine, piece cache emptied',
      kind: 'optimizer',
      count: (s) => coldEngine.count(s),
      beforePass: () => {
        coldEngine = gptTokenizerEncoder('o200k_base');
      },
    },
  ];

  // Identical counts, chunk by chunk, or the comparison means nothing.
  let tokensTotal = 0;
  for (const c of corpora) {
    for (const chunk of c.chunks) {
      const counts = tokenizers.map((t) => t.count(chunk));
      if (counts.some((n) => n !== counts[0])) {
        throw new Error(`token counts differ on a ${c.name} chunk: ${counts.join(' / ')}\n${chunk.slice(0, 200)}`);
      }
      tokensTotal += counts[0]!;
    }
  }

  // 1. Throughput, interleaved rounds.
  for (const c of corpora) for (const t of tokenizers) throughput(t, c, Math.min(PASS_MS, 200));
  const mbps = corpora.map(() => tokenizers.map(() => [] as number[]));
  const p1 = progress('tokenizer throughput');
  for (let r = 0; r < ROUNDS; r++) {
    for (let ci = 0; ci < corpora.length; ci++) {
      for (let ti = 0; ti < tokenizers.length; ti++)
        mbps[ci]![ti]!.push(throughput(tokenizers[ti]!, corpora[ci]!, PASS_MS));
    }
    p1.update(r + 1, ROUNDS);
  }
  p1.done();

  // 2. A growing conversation, with and without memoization.
  // tiktoken rows pass tiktoken's engine explicitly; the default engine is gpt-tokenizer behind a piece
  // cache. "gpt-tokenizer whole texts" is gpt-tokenizer alone, as the default engine was before the cache.
  const wasmEngine = { encoder: tiktokenEncoder };
  const wholeTexts = { encoder: gptTokenizerWholeTexts };
  const mode = (name: string, counter: TokenCounter, options: Partial<ConversationMode> = {}): ConversationMode => ({
    name,
    counter,
    perCall: [],
    lastCall: [],
    ...options,
  });
  const modes: ConversationMode[] = [
    mode('tiktoken, no memo', new TokenCounter({ ...wasmEngine, cacheEntries: 0 })),
    mode('tiktoken, memoized', new TokenCounter(wasmEngine)),
    mode('tiktoken, memoized, answer pre-counted', new TokenCounter(wasmEngine), { prewarm: true }),
    mode('tiktoken, memoized, same objects', new TokenCounter(wasmEngine), { sameObjects: true }),
    mode('gpt-tokenizer whole texts, memoized', new TokenCounter(wholeTexts)),
    mode('gpt-tokenizer whole texts, answer pre-counted', new TokenCounter(wholeTexts), { prewarm: true }),
    mode(DEFAULT_MEMOIZED, new TokenCounter()),
    mode(DEFAULT_PRECOUNTED, new TokenCounter(), { prewarm: true }),
    mode('default engine, emptied before each conversation', new TokenCounter(), { emptied: true }),
    mode(LOOKUPS_ONLY, new TokenCounter(), { lookupsOnly: true }),
  ];
  const { newTurnChars, questionChars } = measureConversations(modes, paragraphs);

  console.log(
    `\nbench/tokens: o200k_base, ${ROUNDS} rounds x ${PASS_MS} ms per tokenizer and corpus; node ${process.version}`,
  );
  console.log(
    `corpora (bench/data): ${corpora.map((c) => `${c.name} ${fmt(c.bytes / 1024)} KB in ${c.chunks.length} chunks`).join(', ')}; ${tokensTotal} tokens, identical in every tokenizer\n`,
  );
  const rows: (string | number)[][] = [];
  for (let ci = 0; ci < corpora.length; ci++) {
    const base = median(mbps[ci]![0]!);
    for (let ti = 0; ti < tokenizers.length; ti++) {
      const m = median(mbps[ci]![ti]!);
      rows.push([corpora[ci]!.name, tokenizers[ti]!.name, fmt(m, 2), ti === 0 ? '1.00x' : `${fmt(m / base, 2)}x`]);
    }
  }
  engine.free?.();
  coldEngine.free?.();
  console.log(table(['corpus', 'tokenizer', 'MB/s (median)', 'vs tiktoken'], rows));

  console.log(
    `\ngrowing conversation: ${CONVERSATIONS} conversations x ${TURNS} calls (call k = system + k-1 turns + a new user message), messages parsed from JSON per call unless "same objects"`,
  );
  console.log(
    `new turn (previous answer + new question): ${fmt(newTurnChars, 0)} characters on average; with the answer pre-counted, only the question is new: ${fmt(questionChars, 0)} characters`,
  );
  console.log('every call counted identically in every mode\n');
  const plain = summarize(modes[0]!.perCall);
  console.log(
    table(
      ['TokenCounter', 'p50 us/call', 'mean us/call', 'p99 us/call', 'call 20 p50 us', 'vs no memo'],
      modes.map((m) => {
        const s = summarize(m.perCall);
        return [
          m.name,
          fmt(s.p50),
          fmt(s.mean),
          fmt(s.p99),
          fmt(summarize(m.lastCall).p50),
          `${fmt(s.p50 / plain.p50, 3)}x`,
        ];
      }),
    ),
  );
  const p50 = (name: string) => fmt(summarize(modes.find((m) => m.name === name)!.perCall).p50);
  console.log('\ntargets:');
  console.log(
    `  memoized counting adds <= 20 us per call for a new turn of typical size (p50, default engine): ${p50(DEFAULT_MEMOIZED)} us ` +
      `for the ${fmt(newTurnChars, 0)}-character turn, ${p50(DEFAULT_PRECOUNTED)} us with the answer pre-counted (question only new, as the plugin runs); ` +
      `memo lookups alone ${p50(LOOKUPS_ONLY)} us; gpt-tokenizer without the piece cache ${p50('gpt-tokenizer whole texts, memoized')} us`,
  );
  const libraries = tokenizers.flatMap((t, i) => (t.kind === 'library' ? [i] : []));
  const proseRow = libraries.map((i) => median(mbps[0]![i]!));
  const fastest = libraries[proseRow.indexOf(Math.max(...proseRow))]!;
  console.log(
    `  keep tiktoken unless another is clearly faster on real text with identical counts: fastest library on prose is ${tokenizers[fastest]!.name}`,
  );

  wasm.free();
}

const DEFAULT_MEMOIZED = 'default engine, memoized';
const DEFAULT_PRECOUNTED = 'default engine, answer pre-counted';
const LOOKUPS_ONLY = 'memo lookups only (all seen)';

const ORDINARY = { disallowedSpecial: new Set<string>() };

/** gpt-tokenizer counting each text whole, without the default engine's piece cache (o200k_base only here). */
const gptTokenizerWholeTexts: EncoderFactory = (encoding) => {
  if (encoding !== 'o200k_base') throw new Error(`bench/tokens: no ${encoding} engine`);
  return { count: (text) => gptTokenizer.countTokens(text, ORDINARY) };
};

interface ConversationMode {
  name: string;
  counter: TokenCounter;
  /** Empty the counter (memo and piece cache) before each conversation: only what it repeats itself is known. */
  emptied?: boolean;
  /** Time a second count of the same call (every text already memoized): the memo's own cost. */
  lookupsOnly?: boolean;
  /** Pass the same message objects from call to call (a library caller appending to its array). */
  sameObjects?: boolean;
  /** Count the previous answer before the call, untimed (what the plugin's `tokenizer.prewarm` does after a response). */
  prewarm?: boolean;
  perCall: number[];
  lastCall: number[];
}

/**
 * Per-call time of counting a growing conversation (calls 2..20; call 1 has no history). Every mode must
 * count every call alike (one of them counts without memo, with tiktoken).
 */
function measureConversations(
  modes: ConversationMode[],
  paragraphs: string[],
): { newTurnChars: number; questionChars: number } {
  let newTurnChars = 0;
  let questionChars = 0;
  let newTurns = 0;
  const text = (i: number, conv: number) => {
    const p = paragraphs[i % paragraphs.length]!;
    return `${TURN_CHARS > 0 ? p.slice(0, TURN_CHARS) : p} (conversation ${conv}, part ${i})`;
  };

  // Warm-up: JIT and encoders.
  for (const m of modes)
    m.counter.count({ model: 'gpt-4o', messages: [{ role: 'user', content: paragraphs.join('\n') }] });

  const p = progress('growing conversation');
  for (let conv = 0; conv < CONVERSATIONS; conv++) {
    const system: ChatMessage = { role: 'system', content: text(conv, conv) };
    const turns: ChatMessage[] = [];
    const calls: string[] = [];
    const objects: ChatMessage[][] = [];
    const answers: string[] = [];
    for (let k = 0; k < TURNS; k++) {
      const question: ChatMessage = { role: 'user', content: text(conv + 2 * k + 1, conv) };
      calls.push(JSON.stringify([system, ...turns, question]));
      objects.push([system, ...turns, question]);
      const answer: ChatMessage = { role: 'assistant', content: text(conv + 2 * k + 2, conv) };
      answers.push(answer.content as string);
      if (k > 0) {
        newTurnChars += (turns.at(-1)!.content as string).length + (question.content as string).length;
        questionChars += (question.content as string).length;
        newTurns++;
      }
      turns.push(question, answer);
    }
    const totals: number[] = [];
    // Rotate the order of the modes from one conversation to the next.
    for (let i = 0; i < modes.length; i++) {
      const m = modes[(conv + i) % modes.length]!;
      if (m.emptied) m.counter.free();
      for (let k = 0; k < TURNS; k++) {
        // Fresh objects per call, parsed just before (as a server counting the body it just parsed).
        const messages = m.sameObjects ? objects[k]! : (JSON.parse(calls[k]!) as ChatMessage[]);
        if (m.lookupsOnly) m.counter.count({ model: 'gpt-4o', messages: JSON.parse(calls[k]!) as ChatMessage[] });
        if (m.prewarm && k > 0) m.counter.text(answers[k - 1]!, 'o200k_base');
        const t0 = performance.now();
        const { total } = m.counter.count({ model: 'gpt-4o', messages });
        const us = (performance.now() - t0) * 1000;
        totals[k] ??= total;
        if (total !== totals[k])
          throw new Error(`${m.name} counted ${total} tokens for call ${k + 1}, another mode ${totals[k]}`);
        if (k > 0) m.perCall.push(us);
        if (k === TURNS - 1) m.lastCall.push(us);
      }
    }
    p.update(conv + 1, CONVERSATIONS);
  }
  p.done();
  for (const m of modes) m.counter.free();
  return { newTurnChars: newTurnChars / newTurns, questionChars: questionChars / newTurns };
}
