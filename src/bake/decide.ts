// Whether to bake: small named predicates, one line per reason (pure).
import type { FoundImage } from './lookup.js';

export interface Decision {
  bake: boolean;
  reasons: string[];
  /** Regions that already have an AMI of this content. */
  present: Record<string, string>;
  missing: string[];
}

export function targetRegions(home: string, amiRegions: string[]): string[] {
  return [home, ...amiRegions.filter((r) => r !== home)].filter((r, i, a) => a.indexOf(r) === i);
}

export function decideBake(o: { regions: string[]; found: Record<string, FoundImage | undefined>; hash: string; force: boolean }): Decision {
  const short = o.hash.slice(0, 12);
  const present: Record<string, string> = {};
  const missing: string[] = [];
  const reasons: string[] = [];
  for (const r of o.regions) {
    const f = o.found[r];
    if (f) {
      present[r] = f.imageId;
      reasons.push(`an AMI with content ${short} exists in ${r} (${f.imageId})`);
    } else {
      missing.push(r);
      reasons.push(`no AMI with content ${short} in ${r}`);
    }
  }
  if (o.force) return { bake: true, reasons: [...reasons, 'bake: --force'], present, missing };
  if (missing.length === 0) return { bake: false, reasons: [...reasons, 'no bake: every target region has this content'], present, missing };
  return { bake: true, reasons: [...reasons, `bake: missing in ${missing.join(', ')}`], present, missing };
}
