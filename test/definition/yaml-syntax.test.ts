// A definition that does not parse (issue 23): one line per error, FILE:LINE:COL then a plain message and the fix,
// with no field path (the parser's half-built tree gave garbled ones such as tcp.maxConnections for `tcp: {`).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssue, loadImage } from '../../src/definition/load.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sipbake-yaml-'));
  await mkdir(path.join(root, 'images'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

async function lines(name: string, text: string): Promise<string[]> {
  await writeFile(path.join(root, 'images', `${name}.yaml`), text);
  const r = await loadImage(root, name);
  if (r.ok) throw new Error(`${name} loaded`);
  return r.issues.map(formatIssue);
}

describe('YAML syntax errors', () => {
  it.each([
    [
      'quote',
      'name: quote\nrelay:\n  destination:\n    domain: "example.com\n  port: 5060\n',
      'images/quote.yaml:4:13: YAML syntax error: the quoted string that starts here is never closed; add the closing quote',
    ],
    ['flow', 'name: flow\ntcp: { maxConnections: 10\n', 'images/flow.yaml:2:6: YAML syntax error: the flow mapping opened with { here is not closed by }'],
    [
      'tab',
      'name: tab\ntcp:\n\tmaxConnections: 10\n',
      'images/tab.yaml:3:1: YAML syntax error: Tabs are not allowed as indentation; fix the YAML at that line',
    ],
  ])('%s: FILE:LINE:COL: a plain message, no field path', async (name, text, start) => {
    const [first, ...rest] = await lines(name, text);
    expect(first?.startsWith(start), first).toBe(true);
    expect(rest).toEqual([]);
    expect(first).not.toMatch(/\(root\)|:\d+ [\w.[\]]+: YAML/);
  });
});
