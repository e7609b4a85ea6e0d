// npm run bench:definition — how long `validate` takes to refuse hostile inputs (issue 11 item 7),
// end to end through loadImage (read, decode, pre-scan, parse, schema). Writes bench/definition.json.
// Goal: every case well under 1 s (the 106 MB and 1-5 MB deep inputs took OOM and 10-16 s before).
// Definitions are capped at 64 KiB, so the ~64 KB cases are the largest that reach the parser.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImage } from '../src/definition/load.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RELAY = 'name: img\nlisten:\n  udp: 5060\nrelay:\n  destination: { domain: sip.example.com }\n';

let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
for (let i = 1; i < 9; i++)
  bomb += `a${i}: &a${i} [${Array(10)
    .fill(`*a${i - 1}`)
    .join(', ')}]\n`;
let deepBlock = '';
for (let i = 0; i < 350; i++) deepBlock += `${' '.repeat(i)}k${i}:\n`; // ~62 KB of indentation
const flatList = `description: x\nbake:\n  amiUsers:\n${'    - "123456789012"\n'.repeat(2_900)}`; // ~62 KB, valid, schema-checked

const cases: Record<string, () => Buffer> = {
  'alias bomb (10^9 expansions)': () => Buffer.from(RELAY + bomb),
  '106 MB file': () => Buffer.alloc(106 * 1024 * 1024, 0x20),
  '1 MiB of [ nesting (refused by size)': () => Buffer.from(`${RELAY}x: ${'['.repeat(524_000)}${']'.repeat(524_000)}\n`),
  '64 KB of [ nesting': () => Buffer.from(`${RELAY}x: ${'['.repeat(32_000)}${']'.repeat(32_000)}\n`),
  '64 KB of block nesting': () => Buffer.from(RELAY + deepBlock),
  '64 KB flat list (largest accepted shape)': () => Buffer.from(RELAY + flatList),
  '64 KB list of 5,000 bad values': () => Buffer.from(RELAY + `bake:\n  amiUsers:\n${'    - "1234"\n'.repeat(5_000)}`),
  'UTF-16 file': () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(RELAY, 'utf16le')]),
};

const dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-bench-def-'));
const results: Record<string, { bytes: number; medianMs: number; maxMs: number; refused: boolean; message: string }> = {};
try {
  await mkdir(path.join(dir, 'images'));
  for (const [name, make] of Object.entries(cases)) {
    const bytes = make();
    await writeFile(path.join(dir, 'images', 'img.yaml'), bytes);
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof loadImage>> | undefined;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      last = await loadImage(dir, 'img');
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    results[name] = {
      bytes: bytes.length,
      medianMs: Math.round(times[2]! * 10) / 10,
      maxMs: Math.round(times[4]! * 10) / 10,
      refused: !last!.ok,
      message: last!.ok ? 'ok' : last!.issues[0]!.message.slice(0, 100),
    };
    process.stdout.write(`${name}: median ${results[name].medianMs} ms, max ${results[name].maxMs} ms, ${results[name].refused ? 'refused' : 'accepted'}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const out = {
  note: 'loadImage() on hostile definitions, 5 runs each; goal: each well under 1000 ms',
  node: process.version,
  results,
};
await writeFile(path.join(root, 'bench', 'definition.json'), `${JSON.stringify(out, null, 2)}\n`);
