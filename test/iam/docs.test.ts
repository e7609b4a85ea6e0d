// docs/iam.md is generated from src/iam: a policy change without `npm run docs:iam` fails here (and in CI).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IAM_DOC, iamMarkdown } from '../../src/iam/docs.js';

describe('docs/iam.md', () => {
  it('is what the policies print (run `npm run docs:iam` after changing src/iam)', async () => {
    const onDisk = await readFile(path.resolve(import.meta.dirname, '../..', IAM_DOC), 'utf8');
    expect(onDisk === iamMarkdown(), 'docs/iam.md is stale: run `npm run docs:iam` and commit it').toBe(true);
  });
});
