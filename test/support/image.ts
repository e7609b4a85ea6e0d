// Test image definitions: a seed image from images/*.yaml with loopback values merged in, written as
// YAML into a temp dir, then rendered with --local (the lead's renderImage) into DIR/tree.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { renderImage, type LocalOptions } from '../../src/render/index.js';
import { UserError } from '../../src/core/errors.js';
import type { ImageInput } from '../../src/definition/schema.js';
import { deepMerge, type Plain } from '../../src/definition/merge.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Deep merge: objects merge, everything else (arrays included) is replaced; `undefined` deletes. */
export const merge = (base: Plain, over: Plain): Plain => deepMerge(base, over);

export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | undefined } : T;

/** images/NAME.yaml merged with overrides (deploy and bake dropped unless given). */
export async function seedDefinition(name: string, over: DeepPartial<ImageInput> & Plain): Promise<Plain> {
  const base = parse(await readFile(path.join(REPO_ROOT, 'images', `${name}.yaml`), 'utf8')) as Plain;
  delete base.deploy;
  return merge(base, over);
}

export interface RenderedImage {
  /** The YAML file written. */
  file: string;
  /** The rendered tree (render --local). */
  tree: string;
  config: string;
}

/** Writes `definition` to DIR/NAME.yaml and renders it with --local into DIR/tree. */
export async function renderDefinition(dir: string, definition: Plain, local: LocalOptions): Promise<RenderedImage> {
  const file = path.join(dir, `${String(definition.name)}.yaml`);
  await writeFile(file, stringify(definition));
  const tree = path.join(dir, 'tree');
  try {
    await renderImage(REPO_ROOT, file, { out: tree, local });
  } catch (e) {
    // Show every definition issue in the test failure, not just the count.
    if (e instanceof UserError) throw new Error(`${e.message}\n${e.details.join('\n')}\n${e.fix ?? ''}`, { cause: e });
    throw e;
  }
  return { file, tree, config: path.join(tree, 'etc/kamailio/kamailio.cfg') };
}
