import { FlowgateError } from '@flowgate/core';

export const CacheErrorCode = {
  STORE: 'FLOWGATE_ERR_CACHE_STORE',
  STORE_TIMEOUT: 'FLOWGATE_ERR_CACHE_STORE_TIMEOUT',
  STORE_UNAVAILABLE: 'FLOWGATE_ERR_CACHE_STORE_UNAVAILABLE',
  INVALID_PATTERN: 'FLOWGATE_ERR_CACHE_INVALID_PATTERN',
  UNSUPPORTED: 'FLOWGATE_ERR_CACHE_UNSUPPORTED',
} as const;

export type StoreOperation = 'get' | 'set' | 'delete' | 'match' | 'clear';

/**
 * A store operation failed. Calls never see it (a failed lookup is a miss); the invalidation methods
 * (`invalidate`, `invalidateMatching`, `clear`) reject with it.
 */
export class CacheStoreError extends FlowgateError {
  override name = 'CacheStoreError';
  readonly operation: StoreOperation;
  readonly store: string;
  constructor(
    store: string,
    operation: StoreOperation,
    message: string,
    cause?: unknown,
    code: string = CacheErrorCode.STORE,
  ) {
    super(code, `cache store "${store}" ${operation}: ${message}`, { retryable: true, cause });
    this.operation = operation;
    this.store = store;
  }
}

/** A store operation took longer than `storeTimeoutMs`. */
export class CacheStoreTimeoutError extends CacheStoreError {
  override name = 'CacheStoreTimeoutError';
  constructor(store: string, operation: StoreOperation, timeoutMs: number) {
    super(store, operation, `no answer within ${timeoutMs} ms`, undefined, CacheErrorCode.STORE_TIMEOUT);
  }
}

/** The store failed repeatedly and is being skipped for a cool-down (circuit open). */
export class CacheStoreUnavailableError extends CacheStoreError {
  override name = 'CacheStoreUnavailableError';
  constructor(store: string, operation: StoreOperation) {
    super(store, operation, 'skipped after repeated failures (cool-down)', undefined, CacheErrorCode.STORE_UNAVAILABLE);
  }
}

/** An invalidation pattern with characters the stores cannot match alike. */
export class InvalidCachePatternError extends FlowgateError {
  override name = 'InvalidCachePatternError';
  readonly pattern: string;
  constructor(pattern: string, message: string) {
    super(CacheErrorCode.INVALID_PATTERN, `invalid cache pattern ${JSON.stringify(pattern)}: ${message}`);
    this.pattern = pattern;
  }
}

/** The store cannot do what was asked (for example pattern deletes on a keyv adapter without an iterator). */
export class CacheUnsupportedError extends FlowgateError {
  override name = 'CacheUnsupportedError';
  constructor(message: string) {
    super(CacheErrorCode.UNSUPPORTED, message);
  }
}
