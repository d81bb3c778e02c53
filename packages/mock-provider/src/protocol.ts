import type { StreamPlan } from './sse.js';
import type { ModelBehavior } from './types.js';

/** A request body that was understood: the server decides faults and pacing, the protocol renders. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  /** The whole JSON response body. */
  whole(behavior: ModelBehavior): string;
  /** The streamed response (only called when `stream`). */
  plan(behavior: ModelBehavior): StreamPlan;
}

/** A request body that is JSON but not a valid request: answered 400 with `message`. */
export interface InvalidRequest {
  invalid: string;
}

export type ParseResult = ParsedRequest | InvalidRequest;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text of the `{type:'text', text}` parts of a content array (or the string itself), joined by newlines. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') {
      out = out === '' ? part.text : `${out}\n${part.text}`;
    }
  }
  return out;
}

/** Prompt tokens split into cache reads and the rest, capped so the parts never exceed the total. */
export function cacheSplit(
  promptTokens: number,
  behavior: ModelBehavior,
): { cacheRead: number; cacheCreation: number; uncached: number } {
  const cacheRead = Math.min(Math.max(0, behavior.cachedTokens ?? 0), promptTokens);
  const cacheCreation = Math.min(Math.max(0, behavior.cacheCreationTokens ?? 0), promptTokens - cacheRead);
  return { cacheRead, cacheCreation, uncached: promptTokens - cacheRead - cacheCreation };
}
