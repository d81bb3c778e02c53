import { countMockTokens, firstWords, splitWords } from './tokens.js';
import type { ModelBehavior } from './types.js';

/** Words of the last user text quoted by the default answer. */
export const DEFAULT_ANSWER_WORDS = 12;

/** The answer text for `lastUserText` under `behavior`. */
export function answerText(behavior: ModelBehavior, lastUserText: string): string {
  const { text } = behavior;
  if (typeof text === 'string') return text;
  if (typeof text === 'function') return String(text(lastUserText));
  const quoted = firstWords(lastUserText, DEFAULT_ANSWER_WORDS);
  return quoted === '' ? 'Mock answer to: nothing' : `Mock answer to: ${quoted}`;
}

/** The text the mock answers to `lastUserText` (with `behavior`'s `text` if it has one). */
export function mockAnswerText(lastUserText: string, behavior: ModelBehavior = {}): string {
  return answerText(behavior, lastUserText);
}

/** The answer cut to at most `maxTokens` words, as stream pieces, with whether it was cut. */
export function answerPieces(text: string, maxTokens: number | undefined): { pieces: string[]; limited: boolean } {
  const pieces = splitWords(text);
  if (maxTokens !== undefined && maxTokens >= 0 && pieces.length > maxTokens) {
    return { pieces: pieces.slice(0, maxTokens), limited: true };
  }
  return { pieces, limited: false };
}

/** The JSON arguments of the mock's tool call: `{"query": <last user text>}`. */
export function toolArguments(lastUserText: string): string {
  return JSON.stringify({ query: lastUserText });
}

/** Completion tokens of a tool call: words of its arguments JSON string. */
export function toolCallTokens(argumentsJson: string): number {
  return countMockTokens(argumentsJson);
}

/** Split a tool call's arguments JSON into 3 fragments (2 when it is very short) for streaming. */
export function argumentFragments(json: string): string[] {
  if (json.length < 3) return [json.slice(0, 1), json.slice(1)].filter((f) => f !== '');
  const third = Math.ceil(json.length / 3);
  return [json.slice(0, third), json.slice(third, 2 * third), json.slice(2 * third)].filter((f) => f !== '');
}

/** Id counters of one server. */
export class IdCounter {
  private n = 0;
  next(): number {
    return ++this.n;
  }
  reset(): void {
    this.n = 0;
  }
}
