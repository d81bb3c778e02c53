/**
 * Canonical (OpenAI Chat Completions) <-> Anthropic Messages API mapping. Pure functions, no I/O.
 */
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionChunkChoice,
  type ChatCompletionRequest,
  type ChatMessage,
  type ContentPart,
  type FinishReason,
  InvalidRequestError,
  type ToolCall,
  type ToolChoice,
  type Usage,
} from '@flowgate/core';

// ---------------------------------------------------------------------------------------------------------------
// Anthropic wire types (the subset we read and write)

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}
export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}
export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | (AnthropicTextBlock | AnthropicImageBlock)[];
}
export type AnthropicBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | AnthropicTextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  stream?: boolean;
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A content block as read back (text, tool_use, or kinds we skip such as thinking). */
export interface AnthropicResponseBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export interface AnthropicResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage?: AnthropicUsage;
}

// ---------------------------------------------------------------------------------------------------------------
// Request

/** Maps a canonical request to an Anthropic Messages request. Fields Anthropic has no equivalent for are dropped. */
export function toAnthropicRequest(
  request: ChatCompletionRequest,
  defaultMaxTokens: number,
  streaming: boolean,
): AnthropicRequest {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  const source = request.messages;
  for (let i = 0; i < source.length; i++) {
    const m = source[i]!;
    switch (m.role) {
      case 'system':
      case 'developer':
        for (const text of texts(m.content)) system.push({ type: 'text', text });
        break;
      case 'user':
        push(messages, 'user', userBlocks(m.content));
        break;
      case 'assistant':
        push(messages, 'assistant', assistantBlocks(m, i));
        break;
      case 'tool':
        push(messages, 'user', [toolResult(m, i)]);
        break;
      default:
        throw new InvalidRequestError(`messages[${i}].role`, `unsupported role ${JSON.stringify(m.role)}`);
    }
  }
  const out: AnthropicRequest = {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens,
    messages,
  };
  if (system.length === 1) out.system = system[0]!.text;
  else if (system.length > 1) out.system = system;
  if (request.stop !== undefined && request.stop !== null) {
    out.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  }
  if (request.temperature !== undefined && request.temperature !== null) out.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) out.top_p = request.top_p;
  if (request.tools && request.tools.length > 0) {
    out.tools = request.tools.map((t) => {
      const tool: AnthropicTool = {
        name: t.function.name,
        input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      };
      if (t.function.description !== undefined) tool.description = t.function.description;
      return tool;
    });
    const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
    if (choice !== undefined) out.tool_choice = choice;
  }
  if (request.user !== undefined) out.metadata = { user_id: request.user };
  if (streaming) out.stream = true;
  return out;
}

function toolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  const noParallel = parallel === false;
  if (choice === undefined) return noParallel ? { type: 'auto', disable_parallel_tool_use: true } : undefined;
  if (choice === 'none') return { type: 'none' };
  let out: AnthropicToolChoice;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else out = { type: 'tool', name: choice.function.name };
  if (noParallel) out.disable_parallel_tool_use = true;
  return out;
}

/** Appends a turn, merging it into the previous one when the roles match (Anthropic requires alternation). */
function push(messages: AnthropicMessage[], role: 'user' | 'assistant', blocks: AnthropicBlock[]): void {
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) {
    for (const b of blocks) last.content.push(b);
  } else {
    messages.push({ role, content: blocks });
  }
}

function texts(content: ChatMessage['content']): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content.length > 0 ? [content] : [];
  const out: string[] = [];
  for (const part of content) if (part.type === 'text' && part.text.length > 0) out.push(part.text);
  return out;
}

function partBlocks(content: string | ContentPart[] | null | undefined): (AnthropicTextBlock | AnthropicImageBlock)[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  const out: (AnthropicTextBlock | AnthropicImageBlock)[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text.length > 0) out.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url') {
      out.push(imageBlock(part.image_url.url));
    }
  }
  return out;
}

const DATA_URL = /^data:([^;,]+);base64,/;

function imageBlock(url: string): AnthropicImageBlock {
  const m = DATA_URL.exec(url);
  if (m) return { type: 'image', source: { type: 'base64', media_type: m[1]!, data: url.slice(m[0].length) } };
  return { type: 'image', source: { type: 'url', url } };
}

function userBlocks(content: ChatMessage['content']): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = partBlocks(content);
  if (blocks.length === 0) blocks.push({ type: 'text', text: typeof content === 'string' ? content : '' });
  return blocks;
}

function assistantBlocks(m: ChatMessage, i: number): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  for (const text of texts(m.content)) blocks.push({ type: 'text', text });
  const calls = m.tool_calls;
  if (calls) {
    for (let j = 0; j < calls.length; j++) {
      const call = calls[j]!;
      blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call, i, j) });
    }
  }
  return blocks;
}

function toolInput(call: ToolCall, i: number, j: number): unknown {
  const args = call.function.arguments;
  if (args === undefined || args.trim() === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    throw new InvalidRequestError(`messages[${i}].tool_calls[${j}].function.arguments`, 'is not valid JSON');
  }
}

function toolResult(m: ChatMessage, i: number): AnthropicToolResultBlock {
  if (!m.tool_call_id) throw new InvalidRequestError(`messages[${i}].tool_call_id`, 'is required for tool messages');
  return {
    type: 'tool_result',
    tool_use_id: m.tool_call_id,
    content: typeof m.content === 'string' ? m.content : partBlocks(m.content),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response

/** Anthropic `stop_reason` -> canonical `finish_reason`. */
export function finishReason(stopReason: string | null | undefined): FinishReason | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * Anthropic usage -> canonical usage. Anthropic's `input_tokens` excludes cached input, so the prompt total is the
 * sum of the three input counts; cache reads become `cached_tokens`, cache writes `cache_creation_tokens`.
 */
export function mapUsage(u: AnthropicUsage): Usage {
  const input = u.input_tokens ?? 0;
  const read = u.cache_read_input_tokens ?? 0;
  const created = u.cache_creation_input_tokens ?? 0;
  const output = u.output_tokens ?? 0;
  const prompt = input + read + created;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: read, cache_creation_tokens: created },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Maps a whole Anthropic message to a chat completion. Text blocks are concatenated; tool_use becomes tool_calls. */
export function fromAnthropicResponse(msg: AnthropicResponse): ChatCompletion {
  let content: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content) {
    if (block.type === 'text') content = content === null ? (block.text ?? '') : content + (block.text ?? '');
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id ?? '',
        type: 'function',
        function: { name: block.name ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: msg.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: msg.model,
    choices: [{ index: 0, message, finish_reason: finishReason(msg.stop_reason) }],
  };
  if (msg.usage) completion.usage = mapUsage(msg.usage);
  return completion;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

/**
 * Turns Anthropic stream events into canonical chunks, one event at a time (at most one chunk per event):
 * `message_start` -> role chunk; text / tool_use blocks and their deltas -> content / tool_call deltas;
 * `message_delta` -> finish chunk; `message_stop` -> usage chunk with `choices: []`. `ping` and unknown events
 * (thinking deltas, `content_block_stop`) yield nothing. `error` events are the caller's to handle.
 */
export class AnthropicStreamMapper {
  /** `message_stop` was seen. */
  done = false;
  private id = '';
  private model = '';
  private created = 0;
  private readonly usage: AnthropicUsage = {};
  /** Content block index -> tool call index (tool calls are numbered from 0 in their own sequence). */
  private readonly toolIndex: number[] = [];
  private tools = 0;

  /** The chunk for one parsed event (`{type: ...}`), or undefined when the event maps to none. */
  map(event: { type?: unknown } & Record<string, unknown>): ChatCompletionChunk | undefined {
    switch (event.type) {
      case 'message_start': {
        const message = (event.message ?? {}) as Partial<AnthropicResponse>;
        this.id = message.id ?? '';
        this.model = message.model ?? '';
        this.created = nowSeconds();
        if (message.usage) this.addUsage(message.usage);
        return this.chunk({ role: 'assistant', content: '' }, null);
      }
      case 'content_block_start': {
        const index = event.index as number;
        const block = (event.content_block ?? {}) as Partial<AnthropicResponseBlock>;
        if (block.type === 'tool_use') {
          const toolIndex = this.tools++;
          this.toolIndex[index] = toolIndex;
          const input = block.input;
          const args =
            input !== null && typeof input === 'object' && Object.keys(input).length > 0 ? JSON.stringify(input) : '';
          return this.chunk(
            {
              tool_calls: [
                {
                  index: toolIndex,
                  id: block.id ?? '',
                  type: 'function',
                  function: { name: block.name ?? '', arguments: args },
                },
              ],
            },
            null,
          );
        }
        if (block.type === 'text' && block.text) return this.chunk({ content: block.text }, null);
        return undefined;
      }
      case 'content_block_delta': {
        const delta = (event.delta ?? {}) as { type?: string; text?: string; partial_json?: string };
        if (delta.type === 'text_delta') return this.chunk({ content: delta.text ?? '' }, null);
        if (delta.type === 'input_json_delta') {
          const toolIndex = this.toolIndex[event.index as number];
          if (toolIndex === undefined) return undefined;
          return this.chunk(
            { tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json ?? '' } }] },
            null,
          );
        }
        return undefined;
      }
      case 'message_delta': {
        if (event.usage) this.addUsage(event.usage as AnthropicUsage);
        const delta = (event.delta ?? {}) as { stop_reason?: string | null };
        const reason = finishReason(delta.stop_reason);
        return reason === null ? undefined : this.chunk({}, reason);
      }
      case 'message_stop': {
        this.done = true;
        return {
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model,
          choices: [],
          usage: mapUsage(this.usage),
        };
      }
      default:
        return undefined;
    }
  }

  private addUsage(u: AnthropicUsage): void {
    const t = this.usage;
    if (typeof u.input_tokens === 'number') t.input_tokens = u.input_tokens;
    if (typeof u.output_tokens === 'number') t.output_tokens = u.output_tokens;
    if (typeof u.cache_read_input_tokens === 'number') t.cache_read_input_tokens = u.cache_read_input_tokens;
    if (typeof u.cache_creation_input_tokens === 'number')
      t.cache_creation_input_tokens = u.cache_creation_input_tokens;
  }

  private chunk(delta: ChatCompletionChunkChoice['delta'], finish: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}
