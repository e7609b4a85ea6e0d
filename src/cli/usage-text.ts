// yargs' own complaints, in sipbake's words: a misspelt option gets "did you mean", a missing argument names
// what is missing and how the command is spelt. Pure: the parser's known options and the argv go in.
import { didYouMean } from '../definition/suggest.js';

export interface UsageContext {
  argv: readonly string[];
  /** Every option the parsed command knows (long names and aliases, without dashes). */
  options: readonly string[];
  /** The command's usage line, e.g. "roll <image>", when a command was named. */
  command?: string;
}

/** "Unknown arguments: plna, yse" → one sentence per unknown option with its closest known one. */
function unknownOptions(msg: string, c: UsageContext): string | undefined {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m?.[1]) return undefined;
  const words = m[1].split(', ');
  const asOption = (w: string) => c.argv.find((a) => a === `--${w}` || a.startsWith(`--${w}=`) || a === `-${w}`);
  if (!words.every(asOption)) return undefined; // an unknown command or positional: yargs' own text suggests commands
  return words
    .map((w) => {
      const near = didYouMean(
        w,
        c.options.filter((o) => o.length > 1),
      );
      return `unknown option --${w}${near ? `: did you mean --${near}?` : ''}`;
    })
    .join('; ');
}

/** "Not enough non-option arguments: got 0, need at least 1" → what the command wants. */
function missingArguments(msg: string, c: UsageContext): string | undefined {
  if (!/^Not enough non-option arguments/.test(msg) || !c.command) return undefined;
  const wanted = c.command
    .split(' ')
    .filter((w) => w.startsWith('<'))
    .join(' ');
  return `${c.command.split(' ')[0]} needs ${wanted || 'an argument'}: sipbake ${c.command}`;
}

export function usageText(msg: string, c: UsageContext): string {
  return unknownOptions(msg, c) ?? missingArguments(msg, c) ?? msg;
}
