// npm run docs:iam: writes docs/iam.md from the policies (see docs.ts).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IAM_DOC, iamMarkdown } from './docs.js';

const root = path.resolve(import.meta.dirname, '../..');
await writeFile(path.join(root, IAM_DOC), iamMarkdown());
console.log(`wrote ${IAM_DOC}`);
