/**
 * The decoders for an answer's `content-encoding`, in the order to apply them (the codings were applied in the
 * order listed, so they are undone last first); `identity` is skipped. Undefined when there is nothing to undo,
 * or when a coding is unknown: the bytes are then handed on as they are, and parsing says they are malformed.
 * Shared by the whole-answer path (one-shot decoders) and the stream path (zlib streams).
 */
export function decodersFor<D>(
  encoding: string | string[] | undefined,
  decoders: Readonly<Record<string, D | undefined>>,
): D[] | undefined {
  if (encoding === undefined || encoding === 'identity') return undefined;
  const codings = (Array.isArray(encoding) ? encoding.join(',') : encoding).split(',');
  const out: D[] = [];
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!.trim().toLowerCase();
    if (coding === '' || coding === 'identity') continue;
    const d = decoders[coding];
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out.length > 0 ? out : undefined;
}
