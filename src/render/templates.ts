import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { UserError } from '../core/errors.js';

/** sipbake's own checkout (src/render or dist/render are two levels down). */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A repository's own templates/ wins; otherwise the ones shipped with sipbake. */
function templatesDir(root: string): string {
  const own = path.join(root, 'templates');
  return existsSync(own) ? own : path.join(packageRoot, 'templates');
}

/** Template sources by path relative to templates/, e.g. 'kamailio/kamailio.cfg.eta'. */
export type TemplateSet = ReadonlyMap<string, string>;

export async function loadTemplates(root: string): Promise<TemplateSet> {
  const dir = templatesDir(root);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.eta')) continue;
    const abs = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, abs).split(path.sep).join('/'), await readFile(abs, 'utf8'));
  }
  return out;
}

// Config files are not HTML: no escaping; `-%>` trims the newline after a tag.
const eta = new Eta({ autoEscape: false, autoTrim: false, useWith: false });

export function renderTemplate(templates: TemplateSet, name: string, data: object): string {
  const src = templates.get(name);
  if (src === undefined) throw new Error(`template templates/${name} is missing`);
  try {
    return eta.renderString(src, data);
  } catch (e) {
    // A value an escaper refused is the user's to fix (exit 1), not a broken template (exit 70).
    if (e instanceof UserError) throw e;
    throw new Error(`templates/${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
