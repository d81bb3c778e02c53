import { ConfigError, InvalidRequestError } from '@flowgate/core';
import { type NormalizeOptions, type ResolvedNormalize, resolveNormalize } from './normalize.js';
import { DEFAULT_TTL_BY_KIND, defaultRules, type KindRule, type SmartRules, statelessRegExp } from './rules.js';
import { memoryStore } from './stores/memory.js';
import { mergeRules } from './text-memo.js';
import { partOfDayBucket } from './time-bucket.js';
import type { CacheCallOptions, CacheCallView, CacheKeying, CacheMode, CacheStore } from './types.js';

export interface CacheOptions {
  /** Plugin name (default `cache`); give two caches in one gateway different names. */
  name?: string;
  /** Where entries live (default `memoryStore()`). */
  store?: CacheStore;
  /** Default `smart`. A call can override it with `options.cache.mode`. */
  mode?: CacheMode;
  /** Default `exact`. */
  keying?: CacheKeying;
  /** One TTL for every entry, ms, instead of the TTL by kind. A call's `options.cache.ttlMs` wins over both. */
  ttlMs?: number;
  /** TTL by kind, ms, merged over the defaults (current 5 min, support 1 h, factual 1 day, default 4 h). */
  ttlByKind?: Record<string, number>;
  /**
   * Cache calls that ask for variety (`temperature > 0`) in smart mode. Default false: such a call
   * goes upstream. A call without `temperature` is cached: it asked a question, not for variety.
   */
  cacheNonDeterministic?: boolean;
  /** Smart mode: cache personalized requests, per user (default false: they are skipped). */
  cachePersonalized?: boolean;
  /** Says whether a call is personalized, when `options.cache.personalized` does not (default: `metadata.tags.personalized === 'true'`). */
  isPersonalized?: (call: CacheCallView) => boolean;
  /** Message normalization for the key. Default: on in smart mode, off in always mode. */
  normalize?: boolean | NormalizeOptions;
  /** Smart rules, each replacing its default list (`false` turns a rule off). */
  rules?: {
    personalInfo?: readonly RegExp[] | false;
    timeReferences?: readonly RegExp[] | false;
    liveTools?: readonly RegExp[] | false;
    kinds?: readonly KindRule[];
  };
  /** Context keying: the locale of a call (default `metadata.tags.locale`). */
  locale?: (call: CacheCallView) => string | undefined;
  /** Context keying: the time bucket of a time-sensitive call (default: date and part of day in `timeZone`). */
  timeBucket?: (nowMs: number, call: CacheCallView) => string;
  /** Time zone of the default time bucket (default `UTC`). */
  timeZone?: string;
  /** The prompt tag of a call, a key segment for `invalidateTags({ promptTag })` (default `metadata.tags.prompt`). */
  promptTag?: (call: CacheCallView) => string | undefined;
  /** Concurrent identical misses share one upstream call (default true; followers wait at most `maxWaitMs`, default 30 s). */
  singleFlight?: boolean | { maxWaitMs?: number };
  /** Longest a lookup or write may take before it counts as a failed miss, ms (default 250; not applied to in-process stores). */
  storeTimeoutMs?: number;
  /** After `failures` store failures in a row, skip the store for `cooldownMs` (default 5 and 5,000; `false`: never). */
  breaker?: false | { failures?: number; cooldownMs?: number };
  /** Clock for entry ages and time buckets, ms since epoch (default `Date.now`). */
  clock?: () => number;
  /** Leave the store open when the gateway closes (default false: the plugin closes it). */
  keepStoreOpen?: boolean;
}

export interface ResolvedRules {
  personalInfo: readonly RegExp[];
  timeReferences: readonly RegExp[];
  liveTools: readonly RegExp[];
  kinds: readonly KindRule[];
}

export interface Config {
  name: string;
  store: CacheStore;
  mode: CacheMode;
  keying: CacheKeying;
  ttlMs: number | undefined;
  ttlByKind: Record<string, number>;
  cacheNonDeterministic: boolean;
  cachePersonalized: boolean;
  isPersonalized: (call: CacheCallView) => boolean;
  normalizeSmart: ResolvedNormalize | undefined;
  normalizeAlways: ResolvedNormalize | undefined;
  rules: ResolvedRules;
  locale: (call: CacheCallView) => string | undefined;
  timeBucket: (nowMs: number, call: CacheCallView) => string;
  promptTag: (call: CacheCallView) => string | undefined;
  singleFlight: boolean;
  maxWaitMs: number;
  storeTimeoutMs: number;
  breaker: { failures: number; cooldownMs: number } | undefined;
  clock: () => number;
  keepStoreOpen: boolean;
}

const MODES: readonly CacheMode[] = ['never', 'always', 'smart'];
const KEYINGS: readonly CacheKeying[] = ['exact', 'context'];

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`cache ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function fn<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new ConfigError(`cache ${name} must be a function`);
  return value;
}

function regexList(value: readonly RegExp[] | false | undefined, fallback: readonly RegExp[], name: string) {
  if (value === undefined) return fallback;
  if (value === false) return [];
  if (!Array.isArray(value) || !value.every((r) => r instanceof RegExp)) {
    throw new ConfigError(`cache rules.${name} must be an array of RegExp, or false`);
  }
  return value.map(statelessRegExp);
}

function kindList(value: readonly KindRule[] | undefined): readonly KindRule[] {
  if (value === undefined) return defaultRules.kinds;
  if (
    !Array.isArray(value) ||
    !value.every((k) => k && typeof k.kind === 'string' && k.kind.length > 0 && k.pattern instanceof RegExp)
  ) {
    throw new ConfigError('cache rules.kinds must be an array of { kind: string, pattern: RegExp }');
  }
  return value.map((k) => ({ kind: k.kind, pattern: statelessRegExp(k.pattern) }));
}

const tags = (call: CacheCallView) => call.metadata.tags;

export function resolveOptions(options: CacheOptions): Config {
  if (options === null || typeof options !== 'object') throw new ConfigError('cache(options) takes an options object');
  const mode = options.mode ?? 'smart';
  if (!MODES.includes(mode))
    throw new ConfigError(`cache mode must be one of ${MODES.join(', ')}, got "${String(mode)}"`);
  const keying = options.keying ?? 'exact';
  if (!KEYINGS.includes(keying)) {
    throw new ConfigError(`cache keying must be one of ${KEYINGS.join(', ')}, got "${String(keying)}"`);
  }
  const store = options.store;
  if (store !== undefined && (typeof store.get !== 'function' || typeof store.set !== 'function')) {
    throw new ConfigError('cache store must be a CacheStore (memoryStore(), redisStore(), sqliteStore(), ...)');
  }
  const ttlByKind: Record<string, number> = { ...DEFAULT_TTL_BY_KIND };
  for (const [kind, ttl] of Object.entries(options.ttlByKind ?? {}))
    ttlByKind[kind] = positive(ttl, `ttlByKind.${kind}`);
  const rules = options.rules ?? {};
  const normalize = options.normalize;
  if (normalize !== undefined && typeof normalize !== 'boolean') {
    if (typeof normalize !== 'object' || normalize === null)
      throw new ConfigError('cache normalize must be a boolean or an object');
    if (
      normalize.dates !== undefined &&
      normalize.dates !== false &&
      normalize.dates !== 'system' &&
      normalize.dates !== 'all'
    ) {
      throw new ConfigError(`cache normalize.dates must be 'system', 'all' or false, got ${String(normalize.dates)}`);
    }
  }
  let singleFlight = true;
  let maxWaitMs = 30_000;
  if (typeof options.singleFlight === 'boolean') singleFlight = options.singleFlight;
  else if (options.singleFlight !== undefined)
    maxWaitMs = positive(options.singleFlight.maxWaitMs ?? maxWaitMs, 'singleFlight.maxWaitMs');
  let breaker: Config['breaker'] = { failures: 5, cooldownMs: 5000 };
  if (options.breaker === false) breaker = undefined;
  else if (options.breaker !== undefined) {
    const failures = options.breaker.failures ?? 5;
    if (!Number.isInteger(failures) || failures <= 0) {
      throw new ConfigError(`cache breaker.failures must be a positive integer, got ${String(failures)}`);
    }
    breaker = { failures, cooldownMs: positive(options.breaker.cooldownMs ?? 5000, 'breaker.cooldownMs') };
  }
  const name = options.name ?? 'cache';
  if (typeof name !== 'string' || name.length === 0) throw new ConfigError('cache name must be a non-empty string');
  const timeBucket = fn(options.timeBucket, 'timeBucket');
  const defaultBucket = timeBucket ? undefined : partOfDayBucket(options.timeZone ?? 'UTC');

  return {
    name,
    // Built last, once every option is known to be valid: a memory store is cheap, a default one is never leaked.
    store: store ?? memoryStore(),
    mode,
    keying,
    ttlMs: options.ttlMs === undefined ? undefined : positive(options.ttlMs, 'ttlMs'),
    ttlByKind,
    cacheNonDeterministic: options.cacheNonDeterministic === true,
    cachePersonalized: options.cachePersonalized === true,
    isPersonalized: fn(options.isPersonalized, 'isPersonalized') ?? ((call) => tags(call)?.personalized === 'true'),
    normalizeSmart: resolveNormalize(normalize, true),
    normalizeAlways: resolveNormalize(normalize, false),
    rules: {
      personalInfo: mergeRules(regexList(rules.personalInfo, defaultRules.personalInfo, 'personalInfo')),
      timeReferences: mergeRules(regexList(rules.timeReferences, defaultRules.timeReferences, 'timeReferences')),
      liveTools: mergeRules(regexList(rules.liveTools, defaultRules.liveTools, 'liveTools')),
      kinds: kindList(rules.kinds),
    },
    locale: fn(options.locale, 'locale') ?? ((call) => tags(call)?.locale),
    timeBucket: timeBucket ?? ((nowMs) => defaultBucket!(nowMs)),
    promptTag: fn(options.promptTag, 'promptTag') ?? ((call) => tags(call)?.prompt),
    singleFlight,
    maxWaitMs,
    storeTimeoutMs: positive(options.storeTimeoutMs ?? 250, 'storeTimeoutMs'),
    breaker,
    clock: fn(options.clock, 'clock') ?? Date.now,
    keepStoreOpen: options.keepStoreOpen === true,
  };
}

/** Per-call options are caller input: a wrong value is a typed error, never silently ignored. */
export function validateCallOptions(o: CacheCallOptions): void {
  if (typeof o !== 'object' || o === null) throw new InvalidRequestError('options.cache', 'must be an object');
  if (o.mode !== undefined && !MODES.includes(o.mode)) {
    throw new InvalidRequestError('options.cache.mode', `must be one of ${MODES.join(', ')}`);
  }
  if (o.ttlMs !== undefined && (typeof o.ttlMs !== 'number' || !Number.isFinite(o.ttlMs) || o.ttlMs <= 0)) {
    throw new InvalidRequestError('options.cache.ttlMs', 'must be a positive number of milliseconds');
  }
  if (o.personalized !== undefined && typeof o.personalized !== 'boolean') {
    throw new InvalidRequestError('options.cache.personalized', 'must be a boolean');
  }
  if (o.refresh !== undefined && typeof o.refresh !== 'boolean') {
    throw new InvalidRequestError('options.cache.refresh', 'must be a boolean');
  }
}

export type { SmartRules };
