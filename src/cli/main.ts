import yargs, { type Argv } from 'yargs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AbortError, ProcessError, UsageError, UserError } from '../core/errors.js';
import { ConsoleReporter, type Reporter } from '../core/reporter.js';
import { InterruptRegistry } from '../core/interrupt.js';
import type { CommandContext, GlobalOptions } from './context.js';
import type { SipbakeCommand } from './command.js';
import { commandIndex, type CommandEntry } from './commands/index.js';
import { mapAwsError } from '../aws/errors.js';
import { findRepository, packageRoot, repositoryNote } from './repository.js';
import { listenForInterrupts } from './interrupts.js';
import { usageText } from './usage-text.js';
import { imageCompletions, knownOptions, rootArg } from './completion.js';

/** The repository a command works on: --root, else the nearest images/ at or above the cwd, else sipbake's own checkout. */
export function resolveRoot(explicit: string | undefined, cwd = process.cwd()): string {
  return findRepository(explicit, cwd).root;
}

export function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface MainIO {
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  /** Tests pass their own signal; otherwise SIGINT/SIGTERM drive one (src/cli/interrupts.ts). */
  signal?: AbortSignal;
  cwd?: string;
  isTTY?: boolean;
  /** Where recovery lines are registered (tests read it). */
  interrupts?: InterruptRegistry;
}

/** The command the argv names (so only its module is loaded), or undefined for --help / --version / none. */
export function commandOf(argv: readonly string[]): CommandEntry | undefined {
  const words: string[] = [];
  const completion = argv.indexOf('--get-yargs-completions');
  if (completion >= 0) {
    // yargs asks `sipbake --get-yargs-completions sipbake WORD… CURRENT`: load the command once it is complete.
    const [word, current] = argv.slice(completion + 2);
    if (word === undefined || current === undefined) return undefined;
    words.push(word);
  } else {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === undefined || a === '--') break;
      if (a === '--root') {
        i++;
        continue;
      }
      if (a.startsWith('-')) continue;
      words.push(a);
      break;
    }
  }
  return commandIndex.find((c) => c.name === words[0]);
}

/** Applies a command's builder, adding the index's examples when the module itself shows none. */
function withExamples(b: Argv<GlobalOptions>, entry: CommandEntry, builder: SipbakeCommand<never>['builder']): Argv<GlobalOptions> {
  let shown = 0;
  const counting = b as unknown as { example: (...a: unknown[]) => unknown };
  const original = counting.example.bind(b);
  counting.example = (...a: unknown[]) => {
    shown++;
    return original(...a);
  };
  const built = builder(b) as unknown as Argv<GlobalOptions>;
  counting.example = original;
  if (shown === 0) for (const [cmd, what] of entry.examples) built.example(cmd, what);
  return built;
}

export function buildParser(
  argv: string[],
  loaded: { entry: CommandEntry; module: SipbakeCommand<never> } | undefined,
  ctxFor: (g: GlobalOptions & { root?: string }) => CommandContext,
  onExit: (code: number) => void,
  completionRoot = process.cwd(),
): Argv<GlobalOptions> {
  let y = yargs(argv)
    .scriptName('sipbake')
    .usage('$0 <command> [options]\n\nGolden Kamailio AMIs, and health-gated, call-draining ASG rolls.')
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Print one JSON document on stdout; progress goes to stderr as one JSON event per line',
    })
    .option('debug', { type: 'boolean', default: false, describe: 'Show stack traces and debug lines' })
    .option('root', {
      type: 'string',
      describe: 'Repository with images/ (default: the nearest images/ at or above the current directory)',
    })
    .strict()
    .demandCommand(1, 'Name a command; `sipbake --help` lists them.')
    .recommendCommands()
    .fail((msg, err) => {
      // Errors thrown by handlers pass through; yargs' own complaints become usage errors (exit 2).
      if (err) throw err;
      throw new UsageError(
        usageText(msg, {
          argv,
          options: knownOptions(() => yargs([]) as unknown as Argv<GlobalOptions>, loaded?.module.builder),
          ...(loaded ? { command: loaded.module.command } : {}),
        }),
      );
    })
    .completion('completion', 'Print a bash/zsh completion script: sipbake completion >> ~/.bashrc', ((
      current: string,
      parsed: { _: unknown[] },
      defaults: (cb: (e: Error | null, found: readonly string[]) => void) => void,
      done: (c: string[]) => void,
    ) => {
      defaults((_e, found) => done([...found, ...imageCompletions(current, parsed, loaded?.module.command, completionRoot)]));
    }) as never)
    .help()
    .alias('h', 'help')
    .version(version())
    .alias('V', 'version')
    .example('$0 validate', 'check every image definition under images/')
    .example('$0 build twilio-relay --plan', 'what a bake would do; changes nothing')
    .example('$0 roll twilio-relay --plan', 'what a roll would do; changes nothing')
    .epilogue('Exit codes: 0 ok, 1 something to fix, 2 a wrong command line, 3 a plan with changes (--detailed-exitcode), 70 internal error, 130 interrupted.')
    // main() returns the exit code; yargs must not end the process itself (--help in tests, embedding).
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110)) as unknown as Argv<GlobalOptions>;
  for (const entry of commandIndex) {
    const mod = loaded?.entry === entry ? loaded.module : undefined;
    y = y.command<GlobalOptions>({
      command: mod?.command ?? entry.command,
      describe: mod?.describe ?? entry.describe,
      // Commands that do not run are listed by name only; their modules stay unloaded.
      builder: (b: Argv<GlobalOptions>) => (mod ? withExamples(b, entry, mod.builder) : b),
      handler: async (opts) => {
        if (!mod) throw new Error(`command ${entry.name} was not loaded`);
        const code = await mod.run(opts as never, ctxFor(opts));
        onExit(typeof code === 'number' ? code : 0);
      },
    });
  }
  return y;
}

/** Entry point. Returns the exit code; never throws. */
export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  const reporter = io.reporter ?? new ConsoleReporter(json, debug);
  const interrupts = io.interrupts ?? new InterruptRegistry();
  // Tests pass their own signal; otherwise SIGINT/SIGTERM drive one.
  const path_ = io.signal ? undefined : listenForInterrupts(reporter, interrupts);
  const signal = io.signal ?? path_?.signal;
  if (signal === undefined) throw new Error('main: no abort signal although one of io.signal / listenForInterrupts is always set');
  const cwd = io.cwd ?? process.cwd();
  let exitCode = 0;
  try {
    const entry = commandOf(argv);
    const loaded = entry ? { entry, module: (await entry.load()).default } : undefined;
    const parser = buildParser(
      argv,
      loaded,
      (g) => {
        const repo = findRepository(g.root, cwd);
        const note = repositoryNote(repo, cwd);
        if (note) reporter.line(note, 'note');
        return {
          reporter,
          root: repo.root,
          signal,
          onInterrupt: (l) => interrupts.onInterrupt(l),
          onForcedExit: (c) => interrupts.onForcedExit(c),
          env: io.env ?? process.env,
          isTTY: io.isTTY ?? Boolean(process.stdin.isTTY && process.stdout.isTTY),
        };
      },
      (code) => {
        exitCode = code;
      },
      findRepository(rootArg(argv), cwd).root,
    );
    // yargs hands its own output (--help, --version, usage, completion) to the callback instead of printing it.
    let output = '';
    await parser.parseAsync(argv, {}, (_err, _args, out) => {
      output = out;
    });
    // The completion script is the command's own output: with --json it is the one document on stdout.
    if (output && json && argv[0] === 'completion') reporter.result({ ok: true, completion: output });
    else if (output) reporter.line(output.trimEnd());
    // A command that treats the interrupt as its normal end (try) returns; its recovery lines still show, and
    // the exit code still says it was interrupted.
    if (signal.aborted) {
      for (const l of interrupts.lines()) reporter.line(l, 'warn');
      return 130;
    }
    return exitCode;
  } catch (e) {
    // Ctrl-C reaches the whole foreground group: a child (esbuild's service, Kamailio, SIPp) that died of the same
    // signal fails its caller with its own message. The interrupt is the cause, whatever the error says.
    if (signal.aborted && !(e instanceof AbortError)) return reportError(interrupted(signal, e, reporter), reporter, debug, interrupts.lines());
    return reportError(e, reporter, debug, e instanceof AbortError ? interrupts.lines() : []);
  } finally {
    path_?.dispose();
  }
}

/** The interrupt as the error to report; what failed meanwhile is a debug line. */
function interrupted(signal: AbortSignal, cause: unknown, reporter: Reporter): AbortError {
  reporter.line(`after the interrupt: ${cause instanceof Error ? cause.message : String(cause)}`, 'debug');
  const reason: unknown = signal.reason;
  return new AbortError(reason instanceof Error ? reason.message : 'interrupted');
}

/** The one error handler: a sentence, details, a fix, one JSON document, and the exit code. */
export function reportError(e: unknown, reporter: Reporter, debug: boolean, recovery: readonly string[] = []): number {
  if (recovery.length && !(e instanceof AbortError)) return reportError(new AbortError(e instanceof Error ? e.message : String(e)), reporter, debug, recovery);
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
    for (const l of recovery) reporter.line(`  ${l}`, 'error');
    reporter.result({ ok: false, error: 'aborted', message: e.message, recovery });
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
