// Deep merge for definition objects (overrides, test variants): objects merge, arrays and scalars
// replace, `undefined` deletes. Keys named in `replaceWhole` are replaced, never merged.
export type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(base: Plain, over: Plain, opts: { replaceWhole?: readonly string[] } = {}): Plain {
  const out = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) out.delete(k);
    else if (opts.replaceWhole?.includes(k)) out.set(k, v);
    else {
      const prev = out.get(k);
      out.set(k, isPlain(v) && isPlain(prev) ? deepMerge(prev, v, opts) : v);
    }
  }
  return Object.fromEntries(out);
}
