import { FlowgateError } from '@flowgate/core';

export const SemanticCacheErrorCode = {
  /** An embedder failed, timed out, or returned vectors of the wrong shape. */
  EMBEDDING: 'FLOWGATE_ERR_SEMANTIC_EMBEDDING',
  /** A persisted index file is unreadable, or was made by another embedder. */
  INDEX_FILE: 'FLOWGATE_ERR_SEMANTIC_INDEX_FILE',
} as const;

/** An embedder failed or returned something unusable. The plugin counts it and lets the call go on. */
export class EmbeddingError extends FlowgateError {
  override name = 'EmbeddingError';
  readonly embedder: string;
  constructor(embedder: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(SemanticCacheErrorCode.EMBEDDING, `embedder "${embedder}": ${message}`, options);
    this.embedder = embedder;
  }
}

/** A persisted index that cannot be loaded (corrupt, another format version, another embedder). */
export class IndexFileError extends FlowgateError {
  override name = 'IndexFileError';
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super(SemanticCacheErrorCode.INDEX_FILE, `semantic index file ${path}: ${message}`, { cause });
    this.path = path;
  }
}
