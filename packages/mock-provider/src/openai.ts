import { answerPieces, answerText, argumentFragments, type IdCounter, toolArguments } from './answer.js';
import { cacheSplit, isRecord, type ParsedRequest, type ParseResult, textOf } from './protocol.js';
import type { StreamPlan } from './sse.js';
import { countMockTokens, countPromptTokens } from './tokens.js';
import type { ModelBehavior } from './types.js';

/** The parts of an OpenAI Chat Completions request the mock reads. */
interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
}

const DONE = 'data: [DONE]\n\n';

/** Parse a `POST /v1/chat/completions` body. */
export function parseChatRequest(body: unknown, ids: IdCounter): ParseResult {
  if (!isRecord(body)) return { invalid: 'The request body must be a JSON object.' };
  const { model, messages } = body;
  if (typeof model !== 'string' || model === '') return { invalid: "you must provide a model parameter ('model')" };
  if (!Array.isArray(messages)) return { invalid: "'messages' must be an array" };
  return new ChatRequest(model, messages as ChatMessageLike[], body, ids);
}

class ChatRequest implements ParsedRequest {
  readonly stream: boolean;
  private readonly includeUsage: boolean;
  private readonly promptTokens: number;
  private readonly lastUserText: string;
  private readonly toolName: string | undefined;
  private readonly maxTokens: number | undefined;

  constructor(
    readonly model: string,
    messages: ChatMessageLike[],
    body: Record<string, unknown>,
    private readonly ids: IdCounter,
  ) {
    this.stream = body.stream === true;
    this.includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const texts: string[] = [];
    let lastUser = '';
    let lastRole: unknown;
    for (const m of messages) {
      if (!isRecord(m)) continue;
      const text = textOf(m.content);
      texts.push(text);
      if (m.role === 'user') lastUser = text;
      lastRole = m.role;
    }
    this.promptTokens = countPromptTokens(texts);
    this.lastUserText = lastUser;
    this.toolName = chooseTool(body.tools, body.tool_choice, lastRole === 'tool');
    const max = body.max_completion_tokens ?? body.max_tokens;
    this.maxTokens = typeof max === 'number' ? max : undefined;
  }

  private usage(completionTokens: number, behavior: ModelBehavior) {
    const { cacheRead } = cacheSplit(this.promptTokens, behavior);
    return {
      prompt_tokens: this.promptTokens,
      completion_tokens: completionTokens,
      total_tokens: this.promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cacheRead },
      completion_tokens_details: { reasoning_tokens: 0 },
    };
  }

  whole(behavior: ModelBehavior): string {
    const n = this.ids.next();
    let message: Record<string, unknown>;
    let finish: string;
    let completion: number;
    if (this.toolName !== undefined) {
      const args = toolArguments(this.lastUserText);
      const call = { id: `call_mock_${n}`, type: 'function', function: { name: this.toolName, arguments: args } };
      message = { role: 'assistant', content: null, tool_calls: [call], refusal: null };
      finish = 'tool_calls';
      completion = countMockTokens(args);
    } else {
      const { pieces, limited } = answerPieces(answerText(behavior, this.lastUserText), this.maxTokens);
      message = { role: 'assistant', content: pieces.join(''), refusal: null };
      finish = limited ? 'length' : 'stop';
      completion = pieces.length;
    }
    return JSON.stringify({
      id: `chatcmpl-mock-${n}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: this.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage: this.usage(completion, behavior),
      system_fingerprint: null,
    });
  }

  plan(behavior: ModelBehavior): StreamPlan {
    const n = this.ids.next();
    const id = `chatcmpl-mock-${n}`;
    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(this.model)},"system_fingerprint":null,`;
    const choice = (delta: string, finish: string | null): string =>
      `data: ${head}"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;

    const events: string[] = [];
    let finish: string;
    let completion: number;
    if (this.toolName !== undefined) {
      const args = toolArguments(this.lastUserText);
      events.push(choice('{"role":"assistant","content":null}', null));
      const call = {
        index: 0,
        id: `call_mock_${n}`,
        type: 'function',
        function: { name: this.toolName, arguments: '' },
      };
      events.push(choice(JSON.stringify({ tool_calls: [call] }), null));
      for (const fragment of argumentFragments(args)) {
        events.push(choice(JSON.stringify({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }), null));
      }
      finish = 'tool_calls';
      completion = countMockTokens(args);
    } else {
      const { pieces, limited } = answerPieces(answerText(behavior, this.lastUserText), this.maxTokens);
      events.push(choice('{"role":"assistant","content":""}', null));
      for (const piece of pieces) events.push(choice(`{"content":${JSON.stringify(piece)}}`, null));
      finish = limited ? 'length' : 'stop';
      completion = pieces.length;
    }
    const contentEnd = events.length;
    events.push(choice('{}', finish));
    if (this.includeUsage) {
      events.push(`data: ${head}"choices":[],"usage":${JSON.stringify(this.usage(completion, behavior))}}\n\n`);
    }
    events.push(DONE);
    return {
      events,
      firstContent: 1,
      contentEnd,
      malformedEvent: `data: ${head}"choices":[{"index":0,"delta":{"content":"\n\n`,
    };
  }
}

/** The tool the mock calls, or undefined to answer with text. */
function chooseTool(tools: unknown, choice: unknown, afterToolResult: boolean): string | undefined {
  if (!Array.isArray(tools) || tools.length === 0 || choice === 'none') return undefined;
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return choice.function.name;
  }
  // After a tool result, answer in text unless a tool call is required.
  if (afterToolResult && choice !== 'required') return undefined;
  const first: unknown = tools[0];
  if (isRecord(first) && isRecord(first.function) && typeof first.function.name === 'string') {
    return first.function.name;
  }
  return 'tool';
}
