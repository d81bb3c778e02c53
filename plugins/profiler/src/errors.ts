import { ConfigError, FlowgateError } from '@flowgate/core';

/** Stable code of {@link ProfilerError}. */
export const PROFILER_ERROR_CODE = 'FLOWGATE_ERR_PROFILER';

/**
 * The profiler could not do what was asked at run time: the plugin is not installed in a gateway,
 * the inspector is unavailable, or a profile could not be written. Bad options and arguments throw
 * the core's `ConfigError` (`FLOWGATE_ERR_CONFIG`) instead.
 */
export class ProfilerError extends FlowgateError {
  override name = 'ProfilerError';
  constructor(message: string, cause?: unknown) {
    super(PROFILER_ERROR_CODE, message, cause === undefined ? {} : { cause });
  }
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** `min` itself is not allowed. */
  exclusiveMin?: boolean;
}

/** Returns `value`, or `fallback` when undefined; throws a `ConfigError` naming the option when out of range. */
export function checkNumber(value: unknown, name: string, fallback: number, rule: NumberRule = {}): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.exclusiveMin ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) {
    const kind = rule.integer ? 'an integer' : 'a number';
    const range =
      rule.min !== undefined && rule.max !== undefined
        ? ` between ${rule.min} and ${rule.max}`
        : rule.min !== undefined
          ? rule.exclusiveMin
            ? ` above ${rule.min}`
            : ` of at least ${rule.min}`
          : '';
    throw new ConfigError(`profiler: \`${name}\` must be ${kind}${range}, got ${describe(value)}`);
  }
  return value;
}

/** A profile name: a non-empty string (it becomes part of a file name). */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ConfigError(`profiler: ${what} needs a non-empty name, got ${describe(name)}`);
  }
  return name;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

export function checkFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new ConfigError(`profiler: ${what} must be a function, got ${describe(fn)}`);
}
