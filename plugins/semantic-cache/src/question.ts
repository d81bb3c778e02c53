import { hash } from 'node:crypto';
import type { CallMetadata, ChatCompletionRequest, ChatMessage } from '@flowgate/core';
import { KEY_VERSION, type NormalizeOptions, normalizeText } from '@flowgate/plugin-cache';

/** The exact cache's normalization (system prompts: dates to placeholders), so partitions are as stable as its keys. */
const NORMALIZE: Required<NormalizeOptions> = {
  case: true,
  whitespace: true,
  punctuation: true,
  contractions: true,
  dates: 'system',
};

/** The text of a message when it is only text; undefined for images or tool calls. */
export function textOf(message: ChatMessage): string | undefined {
  const c = message.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return undefined;
  let out = '';
  for (const part of c) {
    if (part.type !== 'text') return undefined;
    out += part.text;
  }
  return out;
}

export interface Question {
  /** The last user message: the only text that is embedded. */
  text: string;
  /** User messages in the conversation, the last one included. */
  userTurns: number;
}

/** The question a call asks: its last message, when that is a user message of plain text. */
export function questionOf(request: ChatCompletionRequest): Question | undefined {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  if (last === undefined || last.role !== 'user') return undefined;
  const text = textOf(last);
  if (text === undefined || text.trim() === '') return undefined;
  let userTurns = 0;
  for (const m of messages) if (m.role === 'user') userTurns++;
  return { text, userTurns };
}

/**
 * The partition of a call: the scope segments of the exact cache's key (`v1:{tenant}:{user}:{model}:{prompt}`,
 * so tenants, personalized users, models and prompt tags never mix) and a hash of everything else that
 * shapes the answer: system and developer prompts, the earlier turns, tools, response format, sampling
 * parameters and the locale. Only questions with the same partition are ever compared.
 */
export function partitionOf(request: ChatCompletionRequest, metadata: CallMetadata, exactKey: string): string {
  const segments = exactKey.split(':');
  const scope =
    segments.length === 6 && segments[0] === KEY_VERSION
      ? segments.slice(0, 5).join(':')
      : `x:${JSON.stringify([metadata.tenant ?? null, metadata.user ?? null, request.model])}`;
  const messages = request.messages;
  const context: unknown[] = [];
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    const text = textOf(m);
    context.push([
      m.role,
      text === undefined ? m.content : normalizeText(text, m.role, NORMALIZE),
      m.name ?? null,
      m.tool_calls?.map((t) => [t.function.name, t.function.arguments]) ?? null,
    ]);
  }
  const shape = [
    context,
    request.tools ?? null,
    request.tool_choice ?? null,
    request.parallel_tool_calls ?? null,
    request.response_format ?? null,
    request.temperature ?? null,
    request.top_p ?? null,
    request.n ?? null,
    request.seed ?? null,
    request.stop ?? null,
    request.presence_penalty ?? null,
    request.frequency_penalty ?? null,
    request.max_completion_tokens ?? request.max_tokens ?? null,
    metadata.tags?.locale ?? null,
  ];
  return `${scope}|${hash('sha256', JSON.stringify(shape), 'base64url').slice(0, 22)}`;
}
