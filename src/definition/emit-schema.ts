import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { imageSchema } from './schema.js';

// images/schema.json: the JSON Schema editors use to complete and check image definitions
// (`# yaml-language-server: $schema=./schema.json`). Generated from the zod schema; `npm run schema`.

export const SCHEMA_FILE = 'images/schema.json';

/** The JSON Schema text, deterministic: same zod schema, same bytes. */
export function jsonSchemaText(): string {
  const schema = z.toJSONSchema(imageSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  const doc = {
    ...schema,
    $id: 'https://sipbake.invalid/images/schema.json',
    title: 'sipbake image definition',
    $comment: 'Generated from src/definition/schema.ts by `npm run schema`; do not edit by hand.',
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function writeJsonSchema(root: string): Promise<string> {
  const file = path.join(root, SCHEMA_FILE);
  await writeFile(file, jsonSchemaText());
  return file;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const written = [await writeJsonSchema(root)];
  try {
    const { writeFieldReference } = await import('./field-docs.js');
    written.push(await writeFieldReference(root));
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'ERR_MODULE_NOT_FOUND')) throw e;
  }
  for (const f of written) process.stdout.write(`wrote ${path.relative(root, f)}\n`);
}
