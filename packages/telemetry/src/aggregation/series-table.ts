import type { Attributes } from '@opentelemetry/api';

/** The SDK's default cardinality limit per instrument; past it, new series fold into one overflow series. */
export const CARDINALITY_LIMIT = 2000;
const OVERFLOW: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * Maps an attribute set to its series without the SDK's per-record sort-and-stringify:
 * a frozen attributes object is looked up by identity (callers that keep one object per series
 * pay a WeakMap lookup); any other is keyed by its keys and values in their own order. Two
 * orders of one set are two entries here and merged at collection (`entries()`).
 */
export class SeriesTable<S> {
  private readonly byIdentity = new WeakMap<Attributes, S>();
  private readonly byKey = new Map<string, { attributes: Attributes; series: S }>();
  private empty: S | undefined;
  private overflow: S | undefined;

  constructor(private readonly create: () => S) {}

  get(attributes: Attributes | undefined): S {
    if (attributes === undefined) {
      if (this.empty === undefined) this.empty = this.get(NO_ATTRIBUTES);
      return this.empty;
    }
    const frozen = Object.isFrozen(attributes);
    if (frozen) {
      const known = this.byIdentity.get(attributes);
      if (known !== undefined) return known;
    }
    const key = keyOf(attributes);
    const entry = this.byKey.get(key);
    const series = entry ? entry.series : this.add(key, attributes);
    if (frozen) this.byIdentity.set(attributes, series);
    return series;
  }

  private add(key: string, attributes: Attributes): S {
    if (this.byKey.size >= CARDINALITY_LIMIT - 1) {
      if (this.overflow === undefined) this.overflow = this.create();
      return this.overflow;
    }
    const series = this.create();
    // A copy without undefined values: the caller may reuse and change its object later.
    this.byKey.set(key, { attributes: defined(attributes), series });
    return series;
  }

  /** Every series with its attributes, one entry per distinct attribute set (orders merged). */
  entries(): { attributes: Attributes; series: S[] }[] {
    const merged = new Map<string, { attributes: Attributes; series: S[] }>();
    for (const { attributes, series } of this.byKey.values()) {
      const canonical = keyOf(attributes, true);
      const m = merged.get(canonical);
      if (m) m.series.push(series);
      else merged.set(canonical, { attributes, series: [series] });
    }
    const out = [...merged.values()];
    if (this.overflow !== undefined) out.push({ attributes: OVERFLOW, series: [this.overflow] });
    return out;
  }
}

function keyOf(attributes: Attributes, sorted = false): string {
  let key = '';
  if (sorted) {
    for (const k of Object.keys(attributes).sort()) key += part(k, attributes[k]);
  } else {
    // for-in: no array per record; own enumerable keys only (attribute objects are plain).
    for (const k in attributes) key += part(k, attributes[k]);
  }
  return key;
}

/** `key=value;` with separators no attribute text uses, and numbers/booleans marked apart from strings. */
function part(k: string, v: Attributes[string]): string {
  if (v === undefined) return '';
  return `${k}\u0000${typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : `\u0002${v}`}\u0001`;
}

function defined(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const k of Object.keys(attributes)) {
    const v = attributes[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}
