import { readFileSync } from 'node:fs';
import { ConfigError } from '@flowgate/core';

/**
 * What one model costs, in USD per million tokens. These field names are a contract: other plugins
 * (the router's cost-aware strategy) duck-type `prices.priceOf(model)` to exactly this shape.
 */
export interface ModelPrice {
  inputPerMTok: number;
  /** Prompt tokens served from the provider's cache (OpenAI cached input, Anthropic cache read). */
  cachedInputPerMTok?: number;
  outputPerMTok: number;
  /** Anthropic prompt-cache writes (5-minute TTL); defaults to the input price when absent. */
  cacheWritePerMTok?: number;
}

export type Encoding = 'o200k_base' | 'cl100k_base';

/** A price plus what the optimizer needs to know about the model's limits and tokenizer. */
export interface ModelInfo extends ModelPrice {
  provider?: string;
  /** Total tokens the model accepts (prompt + output). */
  contextWindow?: number;
  maxOutputTokens?: number;
  /** OpenAI tokenizer of the model; inferred from its name when absent. */
  encoding?: Encoding;
  /**
   * For models whose tokenizer is not public (Anthropic): their token count is estimated as
   * o200k_base tokens × this factor.
   */
  tokenFactor?: number;
}

/** The shape of `prices.json` (and of what `PriceTable.toJSON()` returns). */
export interface PriceFile {
  takenAt: string;
  source: string;
  currency?: string;
  models: Record<string, ModelInfo>;
  aliases?: Record<string, string>;
}

const BUNDLED_URL = new URL('../prices.json', import.meta.url);
let bundled: PriceFile | undefined;

/** The price table shipped with the package (`prices.json`), read once. */
export function bundledPrices(): PriceFile {
  bundled ??= JSON.parse(readFileSync(BUNDLED_URL, 'utf8')) as PriceFile;
  return bundled;
}

// A provider prefix (`openai/gpt-4o`) and a release suffix (`-2024-08-06`, `-20250929`, `-latest`).
const PROVIDER_PREFIX = /^[\w.-]+\//;
const RELEASE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;
const MAX_RESOLVED = 4096;

/**
 * Prices and limits per model: the bundled `prices.json`, overridden and extended by the user.
 * A dated or prefixed model name (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`, `openai/gpt-4o`)
 * resolves to its base entry; nothing else is guessed (a near miss must be reported, not mispriced).
 */
export class PriceTable {
  readonly takenAt: string;
  readonly source: string;
  private readonly models = new Map<string, Readonly<ModelInfo>>();
  private readonly aliases = new Map<string, string>();
  private readonly resolved = new Map<string, string | null>();
  /** Increments on every change, so that derived caches know when to forget. */
  version = 0;

  constructor(file: PriceFile = { takenAt: '', source: '', models: {} }) {
    this.takenAt = file.takenAt;
    this.source = file.source;
    for (const [model, info] of Object.entries(file.models)) this.set(model, info);
    for (const [alias, target] of Object.entries(file.aliases ?? {})) this.alias(alias, target);
  }

  /** The price of `model`, or `undefined` when the table does not know it. */
  priceOf(model: string): Readonly<ModelInfo> | undefined {
    const key = this.resolve(model);
    return key === undefined ? undefined : this.models.get(key);
  }

  /** Same as `priceOf`: the entry carries the limits and tokenizer hints too. */
  infoOf(model: string): Readonly<ModelInfo> | undefined {
    return this.priceOf(model);
  }

  /** The table key `model` resolves to, if any. */
  resolve(model: string): string | undefined {
    const cached = this.resolved.get(model);
    if (cached !== undefined) return cached ?? undefined;
    const key = this.lookup(model);
    if (this.resolved.size >= MAX_RESOLVED) this.resolved.clear();
    this.resolved.set(model, key ?? null);
    return key;
  }

  private lookup(model: string): string | undefined {
    const names = [model];
    const unprefixed = model.replace(PROVIDER_PREFIX, '');
    if (unprefixed !== model) names.push(unprefixed);
    for (let i = 0, n = names.length; i < n; i++) {
      const undated = names[i]!.replace(RELEASE_SUFFIX, '');
      if (undated !== names[i]) names.push(undated);
    }
    for (const name of names) {
      if (this.models.has(name)) return name;
      const target = this.aliases.get(name);
      if (target !== undefined && this.models.has(target)) return target;
    }
    return undefined;
  }

  /** Adds or replaces a model's price (and limits). Throws `ConfigError` on a malformed price. */
  set(model: string, info: ModelInfo): this {
    if (typeof model !== 'string' || model.length === 0)
      throw new ConfigError('prices: a model name must be a non-empty string');
    this.models.set(model, Object.freeze(validateInfo(model, info)));
    this.resolved.clear();
    this.version++;
    return this;
  }

  /** Makes `alias` resolve to the entry of `model`. */
  alias(alias: string, model: string): this {
    this.aliases.set(alias, model);
    this.resolved.clear();
    this.version++;
    return this;
  }

  delete(model: string): boolean {
    const had = this.models.delete(model);
    this.resolved.clear();
    this.version++;
    return had;
  }

  has(model: string): boolean {
    return this.resolve(model) !== undefined;
  }

  /** Every model name in the table. */
  list(): string[] {
    return [...this.models.keys()];
  }

  toJSON(): PriceFile {
    return {
      takenAt: this.takenAt,
      source: this.source,
      currency: 'USD',
      models: Object.fromEntries(this.models),
      aliases: Object.fromEntries(this.aliases),
    };
  }
}

const PRICE_FIELDS = ['inputPerMTok', 'cachedInputPerMTok', 'outputPerMTok', 'cacheWritePerMTok'] as const;
const LIMIT_FIELDS = ['contextWindow', 'maxOutputTokens'] as const;

function validateInfo(model: string, info: ModelInfo): ModelInfo {
  if (typeof info !== 'object' || info === null) throw new ConfigError(`prices["${model}"]: expected an object`);
  for (const field of PRICE_FIELDS) {
    const v = info[field];
    const required = field === 'inputPerMTok' || field === 'outputPerMTok';
    if (v === undefined && !required) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`prices["${model}"].${field} must be a finite number >= 0 (USD per 1M tokens), got ${v}`);
    }
  }
  for (const field of LIMIT_FIELDS) {
    const v = info[field];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      throw new ConfigError(`prices["${model}"].${field} must be a positive integer, got ${v}`);
    }
  }
  if (info.tokenFactor !== undefined && !(info.tokenFactor > 0 && Number.isFinite(info.tokenFactor))) {
    throw new ConfigError(`prices["${model}"].tokenFactor must be a positive number, got ${info.tokenFactor}`);
  }
  if (info.encoding !== undefined && info.encoding !== 'o200k_base' && info.encoding !== 'cl100k_base') {
    throw new ConfigError(`prices["${model}"].encoding must be "o200k_base" or "cl100k_base", got ${info.encoding}`);
  }
  return { ...info };
}
