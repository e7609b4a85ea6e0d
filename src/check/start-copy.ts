// check --start runs the image on this machine, where the PostgreSQL server of a postgres dispatcher backend
// (the shipped recorder-lb's database.example.com) is not reachable: Kamailio's db_postgres would fail its
// start-up on the connection, not on the config. As `try` does (src/try/plan.ts), start-up gets a copy of the
// definition with the list-file backend, the same destinations moved onto the check's loopback address (their
// OPTIONS probes stay on 127.0.0.0/8). `kamailio -c` still checks the image as written.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { ImageDefinition } from '../definition/schema.js';
import { mergeDefinition } from '../try/plan.js';

/** The overrides for start-up, or undefined when the image starts as written. Pure. */
export function startOverrides(image: ImageDefinition, loopbackIp: string): Record<string, unknown> | undefined {
  const ds = image.dispatcher;
  if (ds?.backend.type !== 'postgres') return undefined;
  return { dispatcher: { destinations: ds.destinations.map((d) => ({ ...d, host: loopbackIp })), backend: { type: 'file' } } };
}

/** Writes DIR/NAME.yaml: the definition file with `overrides` merged in (its deploy: section dropped). */
export async function writeStartCopy(root: string, file: string, name: string, overrides: Record<string, unknown>, dir: string): Promise<string> {
  const raw = parse(await readFile(path.resolve(root, file), 'utf8')) as Record<string, unknown>;
  delete raw.deploy;
  const out = path.join(dir, `${name}.yaml`);
  await writeFile(out, stringify(mergeDefinition(raw, overrides)));
  return out;
}
