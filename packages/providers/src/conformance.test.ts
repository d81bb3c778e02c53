import { anthropic } from './anthropic.js';
import { providerConformance } from './conformance.test-suite.js';
import { openai } from './openai.js';

providerConformance({
  name: 'openai',
  model: 'gpt-mock',
  create: (mock, apiKey) => openai({ id: 'mock-openai', baseURL: `${mock.url}/v1`, apiKey }),
  cacheCreation: false,
  embeddings: true,
});

providerConformance({
  name: 'anthropic',
  model: 'claude-mock',
  create: (mock, apiKey) => anthropic({ id: 'mock-anthropic', baseURL: mock.url, apiKey }),
  cacheCreation: true,
  embeddings: false,
});
