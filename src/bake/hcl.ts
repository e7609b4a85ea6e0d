// A tiny HCL2 writer: just enough for the Packer template, laid out the way `packer fmt` lays it out
// (two-space indent, `=` aligned across consecutive one-line attributes), so `packer fmt -check` passes.

export type HclValue = string | number | boolean | HclExpr | HclValue[] | { [key: string]: HclValue };

/** A raw HCL expression, written as is (e.g. `var.region`, a function call). */
export class HclExpr {
  constructor(readonly text: string) {}
}
export const expr = (text: string): HclExpr => new HclExpr(text);

export interface HclAttr {
  kind: 'attr';
  key: string;
  value: HclValue;
}
export interface HclBlock {
  kind: 'block';
  type: string;
  labels: string[];
  body: HclItem[];
}
export interface HclBlank {
  kind: 'blank';
}
export interface HclComment {
  kind: 'comment';
  text: string;
}
export type HclItem = HclAttr | HclBlock | HclBlank | HclComment;

export const attr = (key: string, value: HclValue): HclAttr => ({ kind: 'attr', key, value });
export const block = (type: string, labels: string[], body: HclItem[]): HclBlock => ({
  kind: 'block',
  type,
  labels,
  body,
});
export const blank: HclBlank = { kind: 'blank' };
export const comment = (text: string): HclComment => ({ kind: 'comment', text });

export function quote(s: string): string {
  // HCL strings take JSON-style escapes; `${` and `%{` start templates, so escape them when literal.
  return JSON.stringify(s)
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
}

const bareKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function value(v: HclValue, indent: string): string {
  if (v instanceof HclExpr) return v.text;
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, indent)).join(', ')}]`;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  const inner = `${indent}  `;
  const keyed = entries.map(([k, x]) => [bareKey.test(k) ? k : quote(k), x] as const);
  const width = Math.max(...keyed.map(([k]) => k.length));
  const lines = keyed.map(([k, x]) => `${inner}${k.padEnd(width)} = ${value(x, inner)}`);
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function isOneLine(item: HclItem, indent: string): boolean {
  return item.kind === 'attr' && !value(item.value, indent).includes('\n');
}

function body(items: HclItem[], indent: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (let item = items[0]; item !== undefined; item = items[i]) {
    if (item.kind === 'attr') {
      // Alignment group: consecutive one-line attributes. A multi-line value stands alone, unaligned.
      const group: HclAttr[] = [];
      if (!isOneLine(item, indent)) {
        group.push(item);
        i++;
      } else {
        for (let next = items[i]; next !== undefined && isOneLine(next, indent); next = items[++i]) group.push(next as HclAttr);
      }
      const width = Math.max(...group.map((a) => a.key.length));
      for (const a of group) out.push(`${indent}${a.key.padEnd(width)} = ${value(a.value, indent)}`);
      continue;
    }
    if (item.kind === 'blank') out.push('');
    else if (item.kind === 'comment') out.push(`${indent}# ${item.text}`);
    else {
      const head = [item.type, ...item.labels.map(quote)].join(' ');
      if (item.body.length === 0) out.push(`${indent}${head} {}`);
      else out.push(`${indent}${head} {`, ...body(item.body, `${indent}  `), `${indent}}`);
    }
    i++;
  }
  return out;
}

export function writeHcl(items: HclItem[]): string {
  return `${body(items, '').join('\n')}\n`;
}
