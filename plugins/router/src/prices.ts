/** Price of a model in USD per million tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * Where the cost-aware strategy reads prices. The token optimizer plugin (`@flowgate/plugin-token-optimizer`)
 * exposes one as its `prices` property; the router finds it with `host.getPlugin('token-optimizer')`.
 */
export interface PriceLookup {
  priceOf(model: string): Price | undefined;
}

export function isPriceLookup(value: unknown): value is PriceLookup {
  return value !== null && typeof value === 'object' && typeof (value as Partial<PriceLookup>).priceOf === 'function';
}

/** A price table given as a plain record. */
export function priceTable(prices: Readonly<Record<string, Price>>): PriceLookup {
  const table = new Map(Object.entries(prices));
  return { priceOf: (model) => table.get(model) };
}

/** Estimated cost of a call in USD. */
export function estimateCost(price: Price, inputTokens: number, outputTokens: number): number {
  return (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1_000_000;
}
