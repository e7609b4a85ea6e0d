import yargs, { type Argv } from 'yargs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortError, ProcessError, UsageError, UserError } from '../core/errors.js';
import { ConsoleReporter, type Reporter } from '../core/reporter.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { commands } from './commands/index.js';
import { mapAwsError } from '../aws/errors.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The repository a command works on: --root, else the cwd when it has images/, else sipbake's own checkout. */
export function resolveRoot(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) return path.resolve(explicit);
  if (existsSync(path.join(cwd, 'images'))) return cwd;
  return packageRoot;
}

export interface MainIO {
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  cwd?: string;
}

export function buildParser(argv: string[], ctxFor: (g: GlobalOptions & { root?: string }) => CommandContext, onExit: (code: number) => void): Argv<GlobalOptions> {
  let y = yargs(argv)
    .scriptName('sipbake')
    .usage('$0 <command> [options]\n\nGolden Kamailio AMIs, and health-gated, call-draining ASG rolls.')
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document on stdout (progress goes to stderr)' })
    .option('debug', { type: 'boolean', default: false, describe: 'Show stack traces and debug lines' })
    .option('root', { type: 'string', describe: 'Repository with images/ (default: the current directory when it has one)' })
    .strict()
    .demandCommand(1, 'Name a command; `sipbake --help` lists them.')
    .recommendCommands()
    .fail((msg, err) => {
      // Errors thrown by handlers pass through; yargs' own complaints become usage errors (exit 2).
      if (err) throw err;
      throw new UsageError(msg);
    })
    .help()
    .alias('h', 'help')
    // main() returns the exit code; yargs must not end the process itself (--help in tests, embedding).
    .exitProcess(false)
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110)) as unknown as Argv<GlobalOptions>;
  for (const c of commands) {
    y = y.command({
      command: c.command,
      describe: c.describe,
      builder: (b: Argv<GlobalOptions>) => c.builder(b) as unknown as Argv<GlobalOptions>,
      handler: async (opts) => {
        const code = await c.run(opts as never, ctxFor(opts as unknown as GlobalOptions & { root?: string }));
        onExit(typeof code === 'number' ? code : 0);
      },
    }) as Argv<GlobalOptions>;
  }
  return y;
}

/** Entry point. Returns the exit code; never throws. */
export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  const reporter = io.reporter ?? new ConsoleReporter(json, debug);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new AbortError('interrupted'));
  if (!io.signal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const signal = io.signal ?? controller.signal;
  let exitCode = 0;
  try {
    const parser = buildParser(
      argv,
      (g) => ({ reporter, root: resolveRoot(g.root, io.cwd), signal, env: io.env ?? process.env }),
      (code) => {
        exitCode = code;
      },
    );
    // yargs hands its own output (--help, usage) to the callback instead of printing it.
    let output = '';
    await parser.parseAsync(argv, {}, (_err, _args, out) => {
      output = out;
    });
    if (output) reporter.line(output.trimEnd());
    return exitCode;
  } catch (e) {
    return reportError(e, reporter, debug);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function reportError(e: unknown, reporter: Reporter, debug: boolean): number {
  if (e instanceof UserError) {
    reporter.line(e.message, 'error');
    for (const d of e.details) reporter.line(`  ${d}`, 'error');
    if (e.fix) reporter.line(`  fix: ${e.fix}`, 'error');
    if (debug && e.stack) reporter.line(e.stack, 'debug');
    reporter.result({ ok: false, error: e.message, details: e.details, fix: e.fix ?? null });
    return e.exitCode;
  }
  if (e instanceof ProcessError) {
    reporter.line(e.message, 'error');
    for (const t of e.tail) reporter.line(`  | ${t}`, 'error');
    if (e.fix) reporter.line(`  fix: ${e.fix}`, 'error');
    reporter.result({ ok: false, error: e.message, tail: e.tail, fix: e.fix ?? null });
    return 1;
  }
  if (e instanceof AbortError) {
    reporter.line(`stopped: ${e.message}`, 'error');
    reporter.result({ ok: false, error: 'aborted' });
    return 130;
  }
  if (e instanceof UsageError || (e instanceof Error && e.name === 'YError')) {
    reporter.line(e.message, 'error');
    reporter.line('  see `sipbake --help`', 'error');
    reporter.result({ ok: false, error: e.message });
    return 2;
  }
  // An AWS failure that no command mapped still gets its sentence and fix.
  const mapped = mapAwsError(e, 'an AWS call');
  if (mapped) return reportError(mapped, reporter, debug);
  const err = e instanceof Error ? e : new Error(String(e));
  reporter.line(`internal error: ${err.message}`, 'error');
  reporter.line(debug ? (err.stack ?? '') : '  (run again with --debug for the stack trace, and please report it)', 'error');
  reporter.result({ ok: false, error: `internal: ${err.message}` });
  return 70;
}
