// The wire codec, driven by the SDK's own schemas (`@aws-sdk/client-*`'s exported `Operation$` arrays, read through
// `NormalizedSchema`), so a field name can never drift from what the real clients send and read:
// - decodeQuery() is the inverse of the SDK's QueryShapeSerializer (@aws-sdk/core/protocols/query): awsQuery's
//   `Name.member.N` lists and `entry.N.key` maps, EC2 Query's flattened `Name.N` lists and capitalised
//   ec2QueryName keys;
// - encodeXml() is the mirror of its XmlShapeDeserializer: element names from the member's xmlName trait, list
//   items wrapped in `member` (or the list member's xmlName, EC2's `item`), flattened lists repeated, ISO 8601 dates.
// A value the schema does not know is dropped, exactly as the real client would drop it.
import { NormalizedSchema } from '@smithy/core/schema';

export type Schema = Parameters<typeof NormalizedSchema.of>[0];
type Params = ReadonlyMap<string, string>;

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The query key of a struct member, list member or map key/value (QueryShapeSerializer.getKey). */
function keyOf(name: string, traits: Record<string, unknown>, ec2: boolean, struct: boolean): string {
  if (ec2 && typeof traits.ec2QueryName === 'string') return traits.ec2QueryName;
  const key = typeof traits.xmlName === 'string' ? traits.xmlName : name;
  return ec2 && struct ? key.charAt(0).toUpperCase() + key.slice(1) : key;
}

const present = (p: Params, prefix: string) => p.has(prefix) || [...p.keys()].some((k) => k.startsWith(`${prefix}.`));

function scalar(ns: NormalizedSchema, raw: string): unknown {
  if (ns.isBooleanSchema()) return raw === 'true';
  if (ns.isNumericSchema()) return Number(raw);
  if (ns.isTimestampSchema()) return new Date(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : raw);
  return raw;
}

/** A form-encoded request's parameters → the SDK input object the client serialized. */
export function decodeQuery(schema: Schema, params: Params, ec2: boolean, prefix = ''): unknown {
  const ns = NormalizedSchema.of(schema);
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (ns.isStructSchema()) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of ns.structIterator()) {
      const key = at(keyOf(name, member.getMergedTraits(), ec2, true));
      if (!present(params, key)) continue;
      out[name] = decodeQuery(member, params, ec2, key);
    }
    return out;
  }
  if (ns.isListSchema()) {
    const member = ns.getValueSchema();
    const flat = ec2 || !!ns.getMergedTraits().xmlFlattened;
    const base = flat ? prefix : `${prefix}.${keyOf('member', member.getMergedTraits(), ec2, false)}`;
    const items: unknown[] = [];
    for (let i = 1; present(params, `${base}.${i}`); i++) items.push(decodeQuery(member, params, ec2, `${base}.${i}`));
    return items;
  }
  if (ns.isMapSchema()) {
    const out: Record<string, unknown> = {};
    const flat = !!ns.getMergedTraits().xmlFlattened;
    const k = keyOf('key', ns.getKeySchema().getMergedTraits(), ec2, false);
    const v = keyOf('value', ns.getValueSchema().getMergedTraits(), ec2, false);
    for (let i = 1; ; i++) {
      const entry = flat ? `${prefix}.${i}` : `${prefix}.entry.${i}`;
      const key = params.get(`${entry}.${k}`);
      if (key === undefined) break;
      out[key] = decodeQuery(ns.getValueSchema(), params, ec2, `${entry}.${v}`);
    }
    return out;
  }
  const raw = params.get(prefix);
  return raw === undefined ? undefined : scalar(ns, raw);
}

function scalarXml(ns: NormalizedSchema, v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (ns.isTimestampSchema() && typeof v === 'number') return new Date(v).toISOString();
  return escapeXml(typeof v === 'string' ? v : String(v));
}

/** An SDK output object → the XML body of its members (no envelope), as the client's deserializer reads it. */
export function encodeXml(schema: Schema, value: unknown): string {
  const ns = NormalizedSchema.of(schema);
  if (value === undefined || value === null) return '';
  if (ns.isStructSchema()) {
    const v = value as Record<string, unknown>;
    let out = '';
    for (const [name, member] of ns.structIterator()) {
      if (v[name] === undefined || v[name] === null) continue;
      const key = member.getMemberTraits().xmlName ?? name;
      const flatList = member.isListSchema() && !!member.getMergedTraits().xmlFlattened;
      const items = flatList ? (v[name] as unknown[]) : [v[name]];
      for (const item of items) out += `<${key}>${flatList ? encodeXml(member.getValueSchema(), item) : encodeXml(member, item)}</${key}>`;
    }
    return out;
  }
  if (ns.isListSchema()) {
    const member = ns.getValueSchema();
    const tag = member.getMergedTraits().xmlName ?? 'member';
    return (value as unknown[]).map((x) => `<${tag}>${encodeXml(member, x)}</${tag}>`).join('');
  }
  if (ns.isMapSchema()) {
    const k = ns.getKeySchema().getMergedTraits().xmlName ?? 'key';
    const val = ns.getValueSchema().getMergedTraits().xmlName ?? 'value';
    return Object.entries(value as Record<string, unknown>)
      .map(([key, x]) => `<entry><${k}>${escapeXml(key)}</${k}><${val}>${encodeXml(ns.getValueSchema(), x)}</${val}></entry>`)
      .join('');
  }
  return scalarXml(ns, value);
}
