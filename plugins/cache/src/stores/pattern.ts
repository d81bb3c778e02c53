import { InvalidCachePatternError } from '../errors.js';

/**
 * Keys are made of `[A-Za-z0-9._~%-]` segments joined by `:` (see key.ts), so a pattern needs
 * nothing else besides the two wildcards every backend agrees on: `*` and `?`. Brackets and
 * backslashes mean different things in Redis MATCH, SQLite GLOB and a RegExp, so they are refused.
 */
const VALID = /^[A-Za-z0-9._~%:*?-]+$/;

export function assertPattern(pattern: string): void {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new InvalidCachePatternError(String(pattern), 'a pattern is a non-empty string');
  }
  if (!VALID.test(pattern)) {
    throw new InvalidCachePatternError(
      pattern,
      'use key characters [A-Za-z0-9._~%:-] and the wildcards * and ? only (use invalidateTags() to match a tenant, model or prompt tag by name)',
    );
  }
}

/** The glob as an anchored RegExp (for in-process stores). */
export function globToRegExp(pattern: string): RegExp {
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '.') source += '\\.';
    else source += ch;
  }
  return new RegExp(`${source}$`);
}

/** Escapes a literal (such as a namespace) for a Redis MATCH pattern. */
export function escapeRedisGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}
