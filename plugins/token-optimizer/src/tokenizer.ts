import { createRequire } from 'node:module';
import type { ChatMessage, ContentPart, FunctionTool, ToolChoice } from '@flowgate/core';
import { get_encoding, type Tiktoken } from 'tiktoken';
import { o200kPieceEnd } from './o200k-pieces.js';
import { PieceCounter } from './piece-counter.js';
import type { Encoding, ModelInfo, PriceTable } from './prices.js';
import { TextMemo } from './text-memo.js';
import { renderToolsNamespace } from './tools-format.js';

/**
 * OpenAI chat format overheads (OpenAI cookbook, "How to count tokens with tiktoken", and the
 * function-calling rules observed against the API): every message is wrapped as
 * `<|start|>{role/name}<|message|>{content}<|end|>` (3 tokens + role), a name costs 1 more, every reply
 * is primed with `<|start|>assistant<|message|>` (3), a function call costs 3 more than its name and
 * arguments, and tool definitions cost their rendered namespace + 9 (− 4 with a system message).
 */
export const CHAT_FORMAT = {
  perMessage: 3,
  perName: 1,
  replyPriming: 3,
  perToolCall: 3,
  toolsBase: 9,
  toolsSystemDiscount: 4,
  toolChoiceNone: 1,
  toolChoiceNamed: 4,
} as const;

/** Image parts: OpenAI's tile formula needs the image size, which a URL does not tell. */
export const IMAGE_TOKENS = { low: 85, high: 765 } as const;

/**
 * Anthropic's tool-use system prompt (its pricing page: 346 tokens with tool_choice auto/none,
 * 313 with any/tool for Claude 4.x models).
 */
export const ANTHROPIC_TOOL_PROMPT = { auto: 346, forced: 313 } as const;

/** How a model's tokens are counted. */
export interface TokenizerSpec {
  encoding: Encoding;
  /** Multiplier on the o200k count for models whose tokenizer is not public; 1 when exact. */
  factor: number;
  /** True when counted with the model's own tokenizer and chat format (OpenAI models). */
  exact: boolean;
  family: 'openai' | 'anthropic' | 'other';
}

/** The exact o200k_base chat format, whatever the model (complexity scoring uses it). */
export const O200K_EXACT: TokenizerSpec = Object.freeze({
  encoding: 'o200k_base',
  factor: 1,
  exact: true,
  family: 'openai',
});

/** Default `tokenFactor` for Anthropic models and for models of unknown providers. */
export const DEFAULT_ESTIMATE_FACTOR = 1.2;

const O200K = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|chatgpt-|o\d|codex)/;
const CL100K = /^(gpt-4|gpt-3\.5|gpt-35)/;

/** Which tokenizer counts `model`: the table's hints first, then the model name. */
export function tokenizerFor(model: string, info?: Readonly<ModelInfo>): TokenizerSpec {
  const name = model.replace(/^[\w.-]+\//, '');
  if (info?.encoding) return { encoding: info.encoding, factor: 1, exact: true, family: 'openai' };
  if (info?.provider === 'openai' || O200K.test(name) || CL100K.test(name)) {
    const encoding: Encoding = O200K.test(name) || !CL100K.test(name) ? 'o200k_base' : 'cl100k_base';
    return { encoding, factor: 1, exact: true, family: 'openai' };
  }
  const family = info?.provider === 'anthropic' || name.startsWith('claude') ? 'anthropic' : 'other';
  return { encoding: 'o200k_base', factor: info?.tokenFactor ?? DEFAULT_ESTIMATE_FACTOR, exact: false, family };
}

/**
 * WASM encoders are shared by every counter in the process: building one parses the whole BPE table
 * (hundreds of milliseconds, tens of MB). Each counter holds one reference per encoding it used; the
 * encoder is freed when the last reference is released.
 */
const sharedEncoders = new Map<Encoding, { encoder: Tiktoken; refs: number }>();

function acquireEncoder(encoding: Encoding): Tiktoken {
  let shared = sharedEncoders.get(encoding);
  if (!shared) {
    shared = { encoder: get_encoding(encoding), refs: 0 };
    sharedEncoders.set(encoding, shared);
  }
  shared.refs++;
  return shared.encoder;
}

/** Counts the tokens of plain text in one encoding: the BPE engine behind a `TokenCounter`. */
export interface EncodingCounter {
  count(text: string): number;
  /** Gives the engine's resources back (called once, by `TokenCounter.free()`). */
  free?(): void;
}

/** Makes the engine for an encoding; called once per encoding per counter (until `free()`). */
export type EncoderFactory = (encoding: Encoding) => EncodingCounter;

/**
 * tiktoken's WASM encoder, shared process-wide (`encoder: tiktokenEncoder`). `encode_ordinary` counts text
 * that looks like a special token (`<|endoftext|>`) as text, which is what the API does with content.
 */
export const tiktokenEncoder: EncoderFactory = (encoding) => {
  const encoder = acquireEncoder(encoding);
  let freed = false;
  return {
    count: (text) => encoder.encode_ordinary(text).length,
    free: () => {
      if (!freed) releaseEncoder(encoding);
      freed = true;
    },
  };
};

interface CountingModule {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  /** One array of tokens per piece of the split regex, in order. */
  encodeGenerator(text: string, options: { disallowedSpecial: Set<string> }): Iterable<number[]>;
}

interface SplitRegexModule {
  O200K_TOKEN_SPLIT_REGEX: RegExp;
}

const require = createRequire(import.meta.url);
const gptTokenizerModules = new Map<Encoding, CountingModule>();
/** Special-token lookalikes in content are text, as the API treats them (tiktoken's `encode_ordinary`). */
const ORDINARY = { disallowedSpecial: new Set<string>() };

/**
 * The default engine: gpt-tokenizer, pure JavaScript with the same BPE ranks as tiktoken. In
 * `npm run bench -- tokens` it counted identically to tiktoken on every chunk of prose and code and
 * ran 2.9x (prose) to 7.8x (code) faster than tiktoken's WASM build, so it replaced tiktoken as the
 * default (the rule: keep tiktoken unless another is clearly faster with identical counts).
 * Each encoding's module is loaded once, on first use (about 0.1-0.2 s), and shared.
 *
 * o200k_base text is counted piece by piece (`PieceCounter`): pieces cut by a hand-written ASCII scanner,
 * or by gpt-tokenizer's own split regex where a non-ASCII character decides, each piece's count cached,
 * so the counts are gpt-tokenizer's, exactly. Other encodings go to gpt-tokenizer whole.
 */
export const gptTokenizerEncoder: EncoderFactory = (encoding) => {
  let mod = gptTokenizerModules.get(encoding);
  if (!mod) {
    mod = require(`gpt-tokenizer/encoding/${encoding}`) as CountingModule;
    gptTokenizerModules.set(encoding, mod);
  }
  const counting = mod;
  const whole = (text: string) => counting.countTokens(text, ORDINARY);
  if (encoding !== 'o200k_base') return { count: whole };
  const { O200K_TOKEN_SPLIT_REGEX } = require('gpt-tokenizer/encodingParams/constants') as SplitRegexModule;
  const pieces = new PieceCounter({
    countPiece: whole,
    encodePieces: (text) => counting.encodeGenerator(text, ORDINARY),
    split: O200K_TOKEN_SPLIT_REGEX,
    pieceEnd: o200kPieceEnd,
  });
  return { count: (text) => pieces.count(text), free: () => pieces.clear() };
};

function releaseEncoder(encoding: Encoding): void {
  const shared = sharedEncoders.get(encoding);
  if (!shared) return;
  if (--shared.refs <= 0) {
    shared.encoder.free();
    sharedEncoders.delete(encoding);
  }
}

/** References held on the process-wide encoder of `encoding` (0 when it is not allocated). */
export function encoderRefs(encoding: Encoding): number {
  return sharedEncoders.get(encoding)?.refs ?? 0;
}

/** Just what counting needs of a request. */
export interface CountableRequest {
  model: string;
  messages: readonly ChatMessage[];
  tools?: readonly FunctionTool[] | undefined;
  tool_choice?: ToolChoice | undefined;
}

/** The prompt tokens of a request, split so that context fitting can drop messages. */
export interface PromptTokens {
  model: string;
  /** Sum of `messages`, `tools` and `priming`. */
  total: number;
  /** Per message, overhead included, in request order. */
  messages: number[];
  /** Tool definitions and tool choice. */
  tools: number;
  /** The reply priming every request pays. */
  priming: number;
  encoding: Encoding;
  exact: boolean;
  factor: number;
}

export interface TokenCounterOptions {
  /** Model limits and tokenizer hints. */
  prices?: PriceTable;
  /** Memoized texts (default 20 000; 0 disables memoization). */
  cacheEntries?: number;
  /** Total characters of memoized texts (default 8 000 000, about 16 MB). */
  cacheChars?: number;
  /** The BPE engine (default `gptTokenizerEncoder`; `tiktokenEncoder` for tiktoken WASM). Must count exactly like tiktoken. */
  encoder?: EncoderFactory;
}

export interface TokenCounterStats {
  hits: number;
  misses: number;
  entries: number;
  /** Encoders acquired (at most one per encoding until `free()`). */
  encoders: number;
}

/**
 * Counts tokens with tiktoken's BPE (gpt-tokenizer by default, or tiktoken's WASM encoder). One
 * encoder per encoding, created on first use, shared by the counters of the process and reused
 * until the last of them calls `free()`. Text counts are memoized
 * in a bounded LRU keyed by the text itself, so counting a growing conversation encodes only the
 * messages it has not seen.
 */
export class TokenCounter {
  private readonly lanes = new Map<Encoding, Lane>();
  private readonly specs = new Map<string, TokenizerSpec>();
  private specsVersion = 0;
  private readonly factory: EncoderFactory;
  private readonly prices: PriceTable | undefined;
  private readonly cacheEntries: number;
  private readonly cacheChars: number;
  private created = 0;

  constructor(options: TokenCounterOptions = {}) {
    this.prices = options.prices;
    this.cacheEntries = options.cacheEntries ?? 20_000;
    this.cacheChars = options.cacheChars ?? 8_000_000;
    this.factory = options.encoder ?? gptTokenizerEncoder;
  }

  /** Tokenizer used for `model` (remembered per model until the price table changes). */
  tokenizerFor(model: string): TokenizerSpec {
    const version = this.prices?.version ?? 0;
    if (version !== this.specsVersion) {
      this.specs.clear();
      this.specsVersion = version;
    }
    let spec = this.specs.get(model);
    if (!spec) {
      spec = tokenizerFor(model, this.prices?.infoOf(model));
      if (this.specs.size >= 1024) this.specs.clear();
      this.specs.set(model, spec);
    }
    return spec;
  }

  /** Tokens of plain text in an encoding (memoized). */
  text(text: string, encoding: Encoding = 'o200k_base'): number {
    return this.tokens(this.lane(encoding), text);
  }

  private lane(encoding: Encoding): Lane {
    let lane = this.lanes.get(encoding);
    if (!lane) {
      lane = {
        encoding,
        memo: new TextMemo(this.cacheEntries, this.cacheChars),
        encoder: undefined,
        roles: new Map(),
        objects: new WeakMap(),
      };
      this.lanes.set(encoding, lane);
    }
    return lane;
  }

  private tokens(lane: Lane, text: string): number {
    if (text.length === 0) return 0;
    const hit = lane.memo.get(text);
    if (hit !== undefined) return hit;
    if (!lane.encoder) {
      lane.encoder = this.factory(lane.encoding);
      this.created++;
    }
    const n = lane.encoder.count(text);
    lane.memo.set(text, n);
    return n;
  }

  /** Role names are few: counted once per lane, outside the memo. */
  private role(lane: Lane, role: string): number {
    let n = lane.roles.get(role);
    if (n === undefined) {
      n = this.tokens(lane, role);
      if (lane.roles.size < 16) lane.roles.set(role, n);
    }
    return n;
  }

  /** Prompt tokens of a chat request for its model (or for the tokenizer `spec` given). */
  count(request: CountableRequest, spec: TokenizerSpec = this.tokenizerFor(request.model)): PromptTokens {
    const { encoding, factor } = spec;
    const lane = this.lane(encoding);
    const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
    const messages: number[] = new Array(request.messages.length);
    let sum = 0;
    let systemPadded = false;
    let hasSystem = false;
    for (let i = 0; i < request.messages.length; i++) {
      const m = request.messages[i]!;
      let pad = false;
      if (m.role === 'system') {
        hasSystem = true;
        // With functions, the first system message gets a newline before the tools namespace.
        if (tools && !systemPadded && spec.family === 'openai') {
          systemPadded = true;
          pad = typeof m.content === 'string' && m.content.length > 0 && !m.content.endsWith('\n');
        }
      }
      let n = this.messageIn(lane, m, pad);
      if (factor !== 1) n = Math.ceil(n * factor);
      messages[i] = n;
      sum += n;
    }
    let toolTokens = 0;
    if (tools) toolTokens = this.tools(lane, tools, request.tool_choice, spec, hasSystem);
    else if (request.tool_choice !== undefined && spec.family === 'openai') {
      toolTokens = this.toolChoice(lane, request.tool_choice);
    }
    const priming = CHAT_FORMAT.replyPriming;
    return {
      model: request.model,
      total: sum + toolTokens + priming,
      messages,
      tools: toolTokens,
      priming,
      encoding,
      exact: spec.exact,
      factor,
    };
  }

  /** Tokens of one message in the chat format (before any estimate factor). */
  message(m: ChatMessage, encoding: Encoding, padSystem = false): number {
    return this.messageIn(this.lane(encoding), m, padSystem);
  }

  private messageIn(lane: Lane, m: ChatMessage, padSystem: boolean): number {
    // Plain text messages: the same object as last time (a library caller appending to its array)
    // costs no lookup at all, as long as the fields it was counted from are the very same values.
    const plain = typeof m.content === 'string' && m.tool_calls === undefined;
    if (plain) {
      const seen = lane.objects.get(m);
      if (
        seen !== undefined &&
        seen.content === m.content &&
        seen.role === m.role &&
        seen.name === m.name &&
        seen.pad === padSystem
      ) {
        return seen.tokens;
      }
    }
    const misses = lane.memo.misses;
    const n = this.countMessage(lane, m, padSystem);
    // Remember the object only when its text was new: a server parses every request anew, and
    // filling a WeakMap with objects that are never seen again would cost more than it saves.
    if (plain && this.cacheEntries > 0 && lane.memo.misses !== misses) {
      lane.objects.set(m, { content: m.content as string, role: m.role, name: m.name, pad: padSystem, tokens: n });
    }
    return n;
  }

  private countMessage(lane: Lane, m: ChatMessage, padSystem: boolean): number {
    let n = CHAT_FORMAT.perMessage + this.role(lane, m.role);
    const content = m.content;
    if (typeof content === 'string') n += this.tokens(lane, padSystem ? `${content}\n` : content);
    else if (Array.isArray(content)) n += this.parts(lane, content);
    if (m.name) n += this.tokens(lane, m.name) + CHAT_FORMAT.perName;
    if (m.tool_calls) {
      for (const call of m.tool_calls) {
        n += this.tokens(lane, call.function.name) + this.tokens(lane, call.function.arguments);
        n += CHAT_FORMAT.perToolCall;
      }
    }
    return n;
  }

  private parts(lane: Lane, parts: readonly ContentPart[]): number {
    let n = 0;
    for (const part of parts) {
      if (part.type === 'text') n += this.tokens(lane, part.text);
      else if (part.type === 'image_url') n += part.image_url.detail === 'low' ? IMAGE_TOKENS.low : IMAGE_TOKENS.high;
    }
    return n;
  }

  private tools(
    lane: Lane,
    tools: readonly FunctionTool[],
    choice: ToolChoice | undefined,
    spec: TokenizerSpec,
    hasSystem: boolean,
  ): number {
    if (spec.family === 'anthropic') {
      // Anthropic: a fixed tool-use system prompt plus the tools as JSON, estimated through o200k.
      let n = 0;
      for (const t of tools) {
        const f = t.function;
        n += this.tokens(
          lane,
          JSON.stringify({ name: f.name, description: f.description, input_schema: f.parameters }),
        );
      }
      const forced = choice === 'required' || (typeof choice === 'object' && choice !== null);
      return Math.ceil(n * spec.factor) + (forced ? ANTHROPIC_TOOL_PROMPT.forced : ANTHROPIC_TOOL_PROMPT.auto);
    }
    let n = this.tokens(lane, renderToolsNamespace(tools)) + CHAT_FORMAT.toolsBase;
    if (hasSystem) n -= CHAT_FORMAT.toolsSystemDiscount;
    if (choice !== undefined) n += this.toolChoice(lane, choice);
    return spec.factor === 1 ? n : Math.ceil(n * spec.factor);
  }

  private toolChoice(lane: Lane, choice: ToolChoice): number {
    if (choice === 'none') return CHAT_FORMAT.toolChoiceNone;
    if (typeof choice === 'object' && choice?.function?.name) {
      return this.tokens(lane, choice.function.name) + CHAT_FORMAT.toolChoiceNamed;
    }
    return 0;
  }

  stats(): TokenCounterStats {
    let hits = 0;
    let misses = 0;
    let entries = 0;
    for (const lane of this.lanes.values()) {
      hits += lane.memo.hits;
      misses += lane.memo.misses;
      entries += lane.memo.size;
    }
    return { hits, misses, entries, encoders: this.created };
  }

  /**
   * Releases the counter's encoders (the process-wide WASM encoder is freed with its last user) and
   * clears the memo. The counter stays usable: it acquires an encoder again on the next count.
   */
  free(): void {
    for (const lane of this.lanes.values()) {
      lane.encoder?.free?.();
      lane.encoder = undefined;
      lane.memo.clear();
      lane.roles.clear();
      lane.objects = new WeakMap();
    }
  }
}

/** Everything a counter keeps for one encoding. */
interface Lane {
  encoding: Encoding;
  memo: TextMemo;
  encoder: EncodingCounter | undefined;
  roles: Map<string, number>;
  /** Counts by message object; entries go with their objects (a WeakMap holds nothing alive). */
  objects: WeakMap<ChatMessage, SeenMessage>;
}

interface SeenMessage {
  content: string;
  role: string;
  name: string | undefined;
  pad: boolean;
  tokens: number;
}
