// Deep merge for definition objects (overrides, test variants): objects merge, arrays and scalars
// replace, `undefined` deletes. Keys named in `replaceWhole` are replaced, never merged.
export type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(base: Plain, over: Plain, opts: { replaceWhole?: readonly string[] } = {}): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else if (opts.replaceWhole?.includes(k)) out[k] = v;
    else out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v, opts) : v;
  }
  return out;
}
