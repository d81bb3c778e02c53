export { mockAnswerText } from './answer.js';
export { DEFAULT_EMBEDDING_DIMENSIONS, mockEmbedding } from './embeddings.js';
export { startMockProvider } from './server.js';
export { countMockTokens, countPromptTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.js';
export type {
  Fault,
  FaultRule,
  MockProvider,
  MockProviderOptions,
  MockRequestRecord,
  MockStats,
  ModelBehavior,
} from './types.js';
