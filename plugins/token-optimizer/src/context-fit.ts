import type { ChatMessage } from '@flowgate/core';

/** What to do when a prompt does not fit the model's context window minus its output tokens. */
export type ContextPolicy = 'off' | 'fail' | 'trim';

/** What context fitting did, in `response.flowgate.context` and on the span (`flowgate.context.*`). */
export interface ContextFit {
  trimmed: boolean;
  /** Indexes (in the original request) of the messages removed, oldest first. */
  droppedIndexes: number[];
  droppedMessages: number;
  /** Prompt tokens before and after trimming. */
  promptTokens: number;
  fittedTokens: number;
  /** Context window minus the output tokens reserved for the answer. */
  limit: number;
}

export interface TrimResult {
  messages: ChatMessage[];
  dropped: number[];
  tokens: number;
}

const pinned = (m: ChatMessage) => m.role === 'system' || m.role === 'developer';

/**
 * Drops the oldest turns until the prompt fits `limit`. System and developer messages are never
 * dropped. A turn is a user message with everything that answers it (assistant replies, tool calls and
 * their tool results), so a tool call always leaves together with its results. If older turns are not
 * enough, the oldest tool-call groups of the current turn go next, keeping its user message and its
 * latest step. Returns `undefined` when even that does not fit.
 *
 * @param perMessage tokens of each message (as counted for the model); `total` includes tools and priming.
 */
export function trimToFit(
  messages: readonly ChatMessage[],
  perMessage: readonly number[],
  total: number,
  limit: number,
): TrimResult | undefined {
  if (total <= limit) return { messages: [...messages], dropped: [], tokens: total };
  const turns = splitTurns(messages);
  const drop = new Set<number>();
  let tokens = total;
  const dropGroup = (group: readonly number[]) => {
    for (const i of group) {
      drop.add(i);
      tokens -= perMessage[i] ?? 0;
    }
  };
  // 1. Whole turns, oldest first, never the current (last) one.
  for (let t = 0; t < turns.length - 1 && tokens > limit; t++) dropGroup(turns[t]!);
  // 2. Inside the current turn: its oldest steps, keeping the user message and the latest step.
  if (tokens > limit && turns.length > 0) {
    const current = turns[turns.length - 1]!;
    const first = current[0]!;
    const steps = splitSteps(messages, messages[first]!.role === 'user' ? current.slice(1) : current);
    for (let s = 0; s < steps.length - 1 && tokens > limit; s++) dropGroup(steps[s]!);
  }
  if (tokens > limit) return undefined;
  const kept: ChatMessage[] = [];
  for (let i = 0; i < messages.length; i++) if (!drop.has(i)) kept.push(messages[i]!);
  return { messages: kept, dropped: [...drop].sort((a, b) => a - b), tokens };
}

/** Non-pinned message indexes grouped by turn: each turn starts at a user message (a leading preamble is a turn). */
function splitTurns(messages: readonly ChatMessage[]): number[][] {
  const turns: number[][] = [];
  let current: number[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (pinned(m)) continue;
    if (m.role === 'user' || !current) {
      current = [];
      turns.push(current);
    }
    current.push(i);
  }
  return turns;
}

/** Groups a turn's messages into steps: an assistant tool call with the tool results that follow it, or one message. */
function splitSteps(messages: readonly ChatMessage[], indexes: readonly number[]): number[][] {
  const steps: number[][] = [];
  let call: { group: number[]; ids: Set<string> } | undefined;
  for (const i of indexes) {
    const m = messages[i]!;
    if (m.role === 'tool' && call && (m.tool_call_id === undefined || call.ids.has(m.tool_call_id))) {
      call.group.push(i);
      continue;
    }
    const group = [i];
    steps.push(group);
    call =
      m.role === 'assistant' && m.tool_calls?.length
        ? { group, ids: new Set(m.tool_calls.map((c) => c.id)) }
        : undefined;
  }
  return steps;
}
