/** Which models a provider serves: a list of names, a predicate, or a pattern. */
export type ModelFilter = readonly string[] | ((model: string) => boolean) | RegExp;

/** A predicate for `serves(model)`, built once. */
export function modelMatcher(
  models: ModelFilter | undefined,
  fallback: (model: string) => boolean,
): (model: string) => boolean {
  if (models === undefined) return fallback;
  if (typeof models === 'function') return models;
  if (models instanceof RegExp) {
    const re = new RegExp(models.source, models.flags.replace(/[gy]/g, ''));
    return (model) => re.test(model);
  }
  const set = new Set(models);
  return (model) => set.has(model);
}
