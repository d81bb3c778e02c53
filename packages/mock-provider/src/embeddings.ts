import { createPrng } from './faults.js';
import { isRecord, type ParsedRequest, type ParseResult } from './protocol.js';
import type { StreamPlan } from './sse.js';
import { countMockTokens } from './tokens.js';
import type { ModelBehavior } from './types.js';

export const DEFAULT_EMBEDDING_DIMENSIONS = 64;
const MAX_DIMENSIONS = 8192;

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The mock's embedding of `text`: the sum of one pseudo-random vector per lower-cased word
 * (seeded by a hash of the word), normalized to unit length. Same text, same vector; texts that
 * share words point in similar directions, which is what semantic-cache tests need.
 */
export function mockEmbedding(text: string, dimensions: number = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) words.push('');
  for (const word of words) {
    const random = createPrng(fnv1a(word));
    for (let d = 0; d < dimensions; d++) vector[d] = (vector[d] ?? 0) + random() * 2 - 1;
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return vector.map((v) => v / norm);
}

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** Parse a `POST /v1/embeddings` body. */
export function parseEmbeddingsRequest(body: unknown): ParseResult {
  if (!isRecord(body)) return { invalid: 'The request body must be a JSON object.' };
  const { model, input, dimensions, encoding_format } = body;
  if (typeof model !== 'string' || model === '') return { invalid: "you must provide a model parameter ('model')" };
  const inputs = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((i) => typeof i === 'string')) {
    return { invalid: "'input' must be a string or a non-empty array of strings" };
  }
  if (dimensions !== undefined) {
    if (
      typeof dimensions !== 'number' ||
      !Number.isInteger(dimensions) ||
      dimensions < 1 ||
      dimensions > MAX_DIMENSIONS
    ) {
      return { invalid: `'dimensions' must be an integer between 1 and ${MAX_DIMENSIONS}` };
    }
  }
  return new EmbeddingsRequest(model, inputs as string[], dimensions, encoding_format === 'base64');
}

class EmbeddingsRequest implements ParsedRequest {
  readonly stream = false;

  constructor(
    readonly model: string,
    private readonly inputs: string[],
    private readonly dimensions: number | undefined,
    private readonly base64: boolean,
  ) {}

  whole(behavior: ModelBehavior): string {
    const dims = this.dimensions ?? behavior.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
    let tokens = 0;
    const data = this.inputs.map((text, index) => {
      tokens += countMockTokens(text);
      const vector = mockEmbedding(text, dims);
      return { object: 'embedding', index, embedding: this.base64 ? toBase64(vector) : vector };
    });
    return JSON.stringify({
      object: 'list',
      data,
      model: this.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  plan(): StreamPlan {
    throw new Error('embeddings are never streamed');
  }
}
