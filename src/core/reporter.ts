// All CLI output goes through a Reporter, so tests can record it and --json can keep stdout clean.
import type { ProgressEvent } from './events.js';

export type { ProgressEvent } from './events.js';

/** note: a remark for the person (which repository is in use), always on stderr so stdout stays the command's own. */
export type Level = 'info' | 'note' | 'warn' | 'error' | 'success' | 'debug';

export interface Reporter {
  readonly json: boolean;
  /** Human-readable line. In --json mode it goes to stderr so stdout stays one JSON document. */
  line(message: string, level?: Level): void;
  /** The one machine-readable result of a command (printed only in --json mode). */
  result(value: unknown): void;
  /**
   * A progress event (stage, instance, health, checkpoint, drain…). In --json mode each is one JSON line on
   * stderr, so CI sees progress while stdout stays one document; in a terminal listr2 shows progress instead.
   * Only the events of the registry (src/core/events.ts).
   */
  event(e: ProgressEvent): void;
}

const prefix: Record<Level, string> = {
  info: '',
  note: 'note: ',
  warn: 'warning: ',
  error: 'error: ',
  success: '',
  debug: 'debug: ',
};

export class ConsoleReporter implements Reporter {
  constructor(
    readonly json: boolean,
    private readonly debug = false,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}
  line(message: string, level: Level = 'info'): void {
    if (level === 'debug' && !this.debug) return;
    const stream = this.json || level === 'error' || level === 'warn' || level === 'note' ? this.err : this.out;
    stream.write(`${prefix[level]}${message}\n`);
  }
  result(value: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }
  event(e: ProgressEvent): void {
    if (this.json) this.err.write(`${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
  }
}

/** Test double: keeps every message. */
export class RecordingReporter implements Reporter {
  readonly lines: { level: Level; message: string }[] = [];
  readonly results: unknown[] = [];
  readonly events: ProgressEvent[] = [];
  constructor(readonly json = false) {}
  event(e: ProgressEvent): void {
    this.events.push(e);
  }
  line(message: string, level: Level = 'info'): void {
    this.lines.push({ level, message });
  }
  result(value: unknown): void {
    this.results.push(value);
  }
  text(): string {
    return this.lines.map((l) => l.message).join('\n');
  }
}
