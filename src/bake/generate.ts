// Load (list scripts/), plan (pure template), apply (write the two files at the repository root).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { packerTemplate, PLUGINS_FILE, scriptOrder, TEMPLATE_FILE } from './template.js';

async function listScripts(root: string): Promise<string[]> {
  return scriptOrder(await readdir(path.join(root, 'scripts')));
}

export async function templateFor(root: string): Promise<{ template: string; plugins: string }> {
  return packerTemplate({ scripts: await listScripts(root) });
}

export interface GenerateResult {
  files: { path: string; changed: boolean }[];
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

/** Writes packer.pkr.hcl and packer-plugins.pkr.hcl under `root`; with `check`, only reports which are stale. */
export async function generatePacker(root: string, opts: { check?: boolean } = {}): Promise<GenerateResult> {
  const t = await templateFor(root);
  const files: GenerateResult['files'] = [];
  for (const [name, text] of [
    [TEMPLATE_FILE, t.template],
    [PLUGINS_FILE, t.plugins],
  ] as const) {
    const file = path.join(root, name);
    const changed = (await readOrEmpty(file)) !== text;
    if (changed && !opts.check) await writeFile(file, text);
    files.push({ path: name, changed });
  }
  return { files };
}
