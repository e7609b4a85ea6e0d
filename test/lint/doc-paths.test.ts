// The docs name repository paths (src/…, test/…, docs/…); each must exist, so a rename or a move that forgets
// the docs fails here. Paths on the instance (usr/local/bin/…, /etc/…) and placeholders (images/NAME.yaml) are
// not repository paths and are skipped.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  'docs/design.md',
  'docs/infra.md',
  'docs/getting-started.md',
  'docs/ci.md',
  'docs/commands.md',
  'docs/operations.md',
  'docs/image.md',
  'docs/data-plane.md',
  'docs/definition.md',
];
// A repository path: a top-level folder at a word start (not after / or a letter), then path characters.
const PATH = /(?<![/\w.-])(?:src|test|docs|bench|images|scripts|share|templates|bin)\/[A-Za-z0-9_./-]*[A-Za-z0-9_]/g;

function namedPaths(text: string): string[] {
  return [...new Set([...text.matchAll(PATH)].map((m) => m[0]))].filter((p) => !/\b(NAME|IMAGE|ROLE|REGION|COMPONENT)\b/.test(p)); // placeholders
}

describe('paths named in the docs exist', () => {
  it.each(DOCS)('%s', async (doc) => {
    const missing = namedPaths(await readFile(path.join(root, doc), 'utf8')).filter((p) => !existsSync(path.join(root, p)));
    expect(missing).toEqual([]);
  });
  it('the matcher finds repository paths and skips instance paths and placeholders', () => {
    expect(namedPaths('see src/roll/machine.ts and (test/fakes/aws/README.md), usr/local/bin/sipbake-status, images/NAME.yaml')).toEqual([
      'src/roll/machine.ts',
      'test/fakes/aws/README.md',
    ]);
  });
});
