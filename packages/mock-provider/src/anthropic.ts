import { answerPieces, answerText, argumentFragments, type IdCounter, toolArguments } from './answer.js';
import { cacheSplit, isRecord, type ParsedRequest, type ParseResult, textOf } from './protocol.js';
import type { StreamPlan } from './sse.js';
import { countMockTokens, countPromptTokens } from './tokens.js';
import type { ModelBehavior } from './types.js';

/** The parts of an Anthropic Messages request the mock reads. */
interface MessageLike {
  role?: unknown;
  content?: unknown;
}

const event = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
const PING = event('ping', '{"type":"ping"}');
const BLOCK_STOP = event('content_block_stop', '{"type":"content_block_stop","index":0}');
const MESSAGE_STOP = event('message_stop', '{"type":"message_stop"}');
const MALFORMED = event(
  'content_block_delta',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"',
);

/** Parse a `POST /v1/messages` body. */
export function parseMessagesRequest(body: unknown, ids: IdCounter): ParseResult {
  if (!isRecord(body)) return { invalid: 'The request body must be a JSON object.' };
  const { model, messages, max_tokens } = body;
  if (typeof model !== 'string' || model === '') return { invalid: 'model: Field required' };
  if (!Array.isArray(messages)) return { invalid: 'messages: Field required' };
  if (typeof max_tokens !== 'number' || !Number.isInteger(max_tokens) || max_tokens < 1) {
    return { invalid: 'max_tokens: Field required (a positive integer)' };
  }
  return new MessagesRequest(model, messages as MessageLike[], body, max_tokens, ids);
}

/** Text of a message for the token rule: text blocks and tool_result contents. */
function messageText(content: unknown): string {
  if (!Array.isArray(content)) return textOf(content);
  let out = '';
  for (const block of content) {
    if (!isRecord(block)) continue;
    let text = '';
    if (block.type === 'text' && typeof block.text === 'string') text = block.text;
    else if (block.type === 'tool_result') text = textOf(block.content);
    if (text !== '') out = out === '' ? text : `${out}\n${text}`;
  }
  return out;
}

function hasToolResult(content: unknown): boolean {
  return Array.isArray(content) && content.some((b) => isRecord(b) && b.type === 'tool_result');
}

class MessagesRequest implements ParsedRequest {
  readonly stream: boolean;
  private readonly promptTokens: number;
  private readonly lastUserText: string;
  private readonly toolName: string | undefined;

  constructor(
    readonly model: string,
    messages: MessageLike[],
    body: Record<string, unknown>,
    private readonly maxTokens: number,
    private readonly ids: IdCounter,
  ) {
    this.stream = body.stream === true;
    const texts: string[] = [];
    let lastUser = '';
    let last: MessageLike | undefined;
    for (const m of messages) {
      if (!isRecord(m)) continue;
      texts.push(messageText(m.content));
      // The question is the text of the last user turn that has some (tool results are not questions).
      if (m.role === 'user') {
        const text = textOf(m.content);
        if (text !== '') lastUser = text;
      }
      last = m;
    }
    const system = body.system === undefined || body.system === null ? undefined : textOf(body.system);
    this.promptTokens = countPromptTokens(texts, system);
    this.lastUserText = lastUser;
    this.toolName = chooseTool(body.tools, body.tool_choice, last?.role === 'user' && hasToolResult(last.content));
  }

  private usage(behavior: ModelBehavior) {
    const { cacheRead, cacheCreation, uncached } = cacheSplit(this.promptTokens, behavior);
    return {
      input_tokens: uncached,
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
    };
  }

  /** The answer: a text block or a tool_use block, with its stop reason and output tokens. */
  private answer(behavior: ModelBehavior, n: number) {
    if (this.toolName !== undefined) {
      const args = toolArguments(this.lastUserText);
      return {
        tool: { id: `toolu_mock_${n}`, name: this.toolName, args },
        pieces: argumentFragments(args),
        stop: 'tool_use',
        outputTokens: countMockTokens(args),
      };
    }
    const { pieces, limited } = answerPieces(answerText(behavior, this.lastUserText), this.maxTokens);
    return { tool: undefined, pieces, stop: limited ? 'max_tokens' : 'end_turn', outputTokens: pieces.length };
  }

  whole(behavior: ModelBehavior): string {
    const n = this.ids.next();
    const a = this.answer(behavior, n);
    const content =
      a.tool === undefined
        ? [{ type: 'text', text: a.pieces.join('') }]
        : [{ type: 'tool_use', id: a.tool.id, name: a.tool.name, input: { query: this.lastUserText } }];
    return JSON.stringify({
      id: `msg_mock_${n}`,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content,
      stop_reason: a.stop,
      stop_sequence: null,
      usage: { ...this.usage(behavior), output_tokens: a.outputTokens },
    });
  }

  plan(behavior: ModelBehavior): StreamPlan {
    const n = this.ids.next();
    const a = this.answer(behavior, n);
    const message = {
      id: `msg_mock_${n}`,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // Like the real API: output_tokens here is a placeholder; message_delta carries the final count.
      usage: { ...this.usage(behavior), output_tokens: 1 },
    };
    const block =
      a.tool === undefined
        ? { type: 'text', text: '' }
        : { type: 'tool_use', id: a.tool.id, name: a.tool.name, input: {} };
    const events = [
      event('message_start', JSON.stringify({ type: 'message_start', message })),
      event('content_block_start', JSON.stringify({ type: 'content_block_start', index: 0, content_block: block })),
      PING,
    ];
    const deltaType = a.tool === undefined ? 'text_delta' : 'input_json_delta';
    const field = a.tool === undefined ? 'text' : 'partial_json';
    for (const piece of a.pieces) {
      events.push(
        event(
          'content_block_delta',
          `{"type":"content_block_delta","index":0,"delta":{"type":"${deltaType}","${field}":${JSON.stringify(piece)}}}`,
        ),
      );
    }
    const contentEnd = events.length;
    events.push(
      BLOCK_STOP,
      event(
        'message_delta',
        JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: a.stop, stop_sequence: null },
          usage: { output_tokens: a.outputTokens },
        }),
      ),
      MESSAGE_STOP,
    );
    return { events, firstContent: 3, contentEnd, malformedEvent: MALFORMED };
  }
}

/** The tool the mock calls, or undefined to answer with text. */
function chooseTool(tools: unknown, choice: unknown, afterToolResult: boolean): string | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const type = isRecord(choice) ? choice.type : undefined;
  if (type === 'none') return undefined;
  if (type === 'tool' && isRecord(choice) && typeof choice.name === 'string') return choice.name;
  // After a tool result, answer in text unless a tool call is required.
  if (afterToolResult && type !== 'any') return undefined;
  const first: unknown = tools[0];
  return isRecord(first) && typeof first.name === 'string' ? first.name : 'tool';
}
