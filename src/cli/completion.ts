// Tab completion beyond yargs' commands and options: image names (images/*.yaml of the repository in use) where
// a command takes an image. Reads one directory listing; loads nothing.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import type { GlobalOptions } from './context.js';

/** --root's value in an argv, if any. */
export function rootArg(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--root');
  const eq = argv.find((a) => a.startsWith('--root='));
  return i >= 0 ? argv[i + 1] : eq?.slice('--root='.length);
}

/** Every option the command line can hold: the global ones and the named command's (its builder on a blank parser). */
export function knownOptions(fresh: () => Argv<GlobalOptions>, builder: ((y: Argv<GlobalOptions>) => unknown) | undefined): string[] {
  const global = ['json', 'debug', 'root', 'help', 'version'];
  if (!builder) return global;
  const o = (builder(fresh()) as { getOptions: () => { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  return [...global, ...Object.keys(o.key), ...Object.values(o.alias).flat()];
}

function imageNames(root: string): string[] {
  try {
    return readdirSync(path.join(root, 'images'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Image names when the word being completed is a command's first positional and that is an image. */
export function imageCompletions(current: string, parsed: { _: unknown[] }, command: string | undefined, root: string): string[] {
  if (!command || current.startsWith('-')) return [];
  const [, first] = command.split(' ');
  if (!first || !/^[<[]images?(\.\.)?[>\]]$/.test(first)) return [];
  // parsed._ holds $0, the command and the words typed so far (the one being completed too, unless empty).
  const words = parsed._.map(String).filter(Boolean);
  const after = words.slice(words.indexOf(command.split(' ')[0] ?? '') + 1);
  const typed = after.length - (current === '' || after.at(-1) !== current ? 0 : 1);
  if (typed > 0 && !first.includes('..')) return [];
  return imageNames(root).filter((n) => n.startsWith(current));
}
