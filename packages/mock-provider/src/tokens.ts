/**
 * The deterministic token rule of the mock (see README):
 * - a token is a whitespace-separated word: `countMockTokens('a  b\nc') === 3`;
 * - prompt tokens: for each message, words of its text + 4; plus words of the system prompt + 4 when present;
 * - completion tokens: words of the answer text; for a tool call, words of its arguments JSON string.
 */

/** Overhead added per message (and per Anthropic system prompt). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

function isSpace(c: number): boolean {
  // Same set as the regex \s for the characters that matter here.
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Number of whitespace-separated words in `text`. */
export function countMockTokens(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    if (isSpace(text.charCodeAt(i))) {
      inWord = false;
    } else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/** Prompt tokens of a conversation, given the text of each message and the optional system prompt. */
export function countPromptTokens(messageTexts: readonly string[], system?: string): number {
  let total = 0;
  for (const text of messageTexts) total += countMockTokens(text) + MESSAGE_OVERHEAD_TOKENS;
  if (system !== undefined) total += countMockTokens(system) + MESSAGE_OVERHEAD_TOKENS;
  return total;
}

/** Split text into stream pieces: each word with the whitespace after it (leading whitespace joins the first). */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

/** The first `n` words of `text`, joined by single spaces. */
export function firstWords(text: string, n: number): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  return words.slice(0, n).join(' ');
}
