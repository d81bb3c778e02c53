import type { ChatCompletionRequest, ChatMessage } from '@flowgate/core';

/** How demanding a request looks, from 0 (trivial) to 1 (hard), with the signals behind the score. */
export interface Complexity {
  score: number;
  /** 0..1 from the prompt's size on a log scale: 10 tokens → 0, 100 → 0.33, 1 000 → 0.67, 10 000 → 1. */
  length: number;
  /** 1 when any message carries code (a fenced block or code-shaped lines). */
  code: number;
  /** 0..1 from reasoning cues in the last user message (why, prove, step by step, trade-offs...). */
  reasoning: number;
  /** 1 when the request offers tools. */
  tools: number;
}

/** Weights of the signals in the score (they add up to 1). */
export const COMPLEXITY_WEIGHTS = { length: 0.3, code: 0.2, reasoning: 0.35, tools: 0.15 } as const;

const FENCE = /```/;
const CODE_LINE =
  /(^|\n)\s*(function\s+\w+\s*\(|def\s+\w+\s*\(|class\s+\w+|import\s+[\w{*]|#include\s*<|public\s+static|SELECT\s+.+\s+FROM\s)|=>\s*\{|\)\s*\{\s*\n|;\s*\n\s*\w/;
const REASONING =
  /\b(why|how come|prove|proof|derive|step[- ]by[- ]step|analy[sz]e|analysis|compare|comparison|trade-?offs?|pros and cons|explain|reason(?:ing)?|plan|design|architect(?:ure)?|optimi[sz]e|debug|evaluate|critique|calculate|solve|strategy|implications?)\b/gi;

/** Scores a request's complexity from its size, code, reasoning cues and tools. */
export function estimateComplexity(request: ChatCompletionRequest, promptTokens: number): Complexity {
  const length = clamp((Math.log10(Math.max(promptTokens, 1)) - 1) / 3);
  let code = 0;
  for (const m of request.messages) {
    const text = textOf(m);
    if (text && (FENCE.test(text) || CODE_LINE.test(text))) {
      code = 1;
      break;
    }
  }
  let lastUser = '';
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') {
      lastUser = textOf(m);
      break;
    }
  }
  const cues = lastUser.match(REASONING)?.length ?? 0;
  const reasoning = clamp(cues / 3);
  const tools = request.tools && request.tools.length > 0 ? 1 : 0;
  const w = COMPLEXITY_WEIGHTS;
  const score = clamp(w.length * length + w.code * code + w.reasoning * reasoning + w.tools * tools);
  return { score, length, code, reasoning, tools };
}

function textOf(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) return '';
  let s = '';
  for (const p of m.content) if (p.type === 'text') s += `${p.text}\n`;
  return s;
}

function clamp(v: number): number {
  return Math.min(1, Math.max(0, v));
}
