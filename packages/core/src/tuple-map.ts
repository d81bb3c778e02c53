/**
 * Values keyed by up to four parts (missing parts are `undefined`), in nested Maps: a lookup builds
 * no key string and allocates nothing. For hot-path caches keyed by a few values, such as metric
 * attribute sets per (model, provider, outcome).
 */
export class TupleMap<V> {
  private readonly root = new Map<unknown, Map<unknown, Map<unknown, Map<unknown, V>>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: unknown, b?: unknown, c?: unknown, d?: unknown): V | undefined {
    return this.root.get(a)?.get(b)?.get(c)?.get(d);
  }

  set(value: V, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    const l1 = child(this.root, a);
    const l2 = child(l1, b);
    const l3 = child(l2, c);
    if (!l3.has(d)) this.count++;
    l3.set(d, value);
  }

  *values(): IterableIterator<V> {
    for (const l1 of this.root.values()) for (const l2 of l1.values()) for (const l3 of l2.values()) yield* l3.values();
  }
}

function child<K, M extends Map<unknown, unknown>>(map: Map<K, M>, key: K): M {
  let m = map.get(key);
  if (m === undefined) {
    m = new Map() as M;
    map.set(key, m);
  }
  return m;
}
