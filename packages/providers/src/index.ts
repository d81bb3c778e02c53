export { type AnthropicOptions, anthropic } from './anthropic.js';
export type { ModelFilter } from './models.js';
export { type OpenAIOptions, openai } from './openai.js';
export { parseSse, type SseEvent, SseParser, type SseParserOptions, SseSyntaxError } from './sse.js';
