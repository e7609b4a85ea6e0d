// SIPp as a process: argv building (pure), its message log and statistics CSV (pure parsers), and
// starting it (effect). Debian's SIPp 3.6 has no TLS; UDP and TCP only.
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startProcess, type ManagedProcess } from './process.js';
import { uacScenario, uasScenario, type UacScenarioOptions } from './sipp-scenarios.js';

export interface SippOptions {
  /** Directory for the scenario file, message log and stats (one SIPp per name). */
  dir: string;
  name: string;
  role: 'uas' | 'uac';
  localIp: string;
  localPort: number;
  transport?: 'udp' | 'tcp';
  /** UAC only: the proxy, host:port. */
  remote?: string;
  /** UAC: calls to place (-m). */
  calls?: number;
  /** UAC: calls per second (-r). */
  rate?: number;
  /** UAC: concurrent call limit (-l). */
  limit?: number;
  /** Keep a message log (default true; benchmarks turn it off). */
  traceMessages?: boolean;
  /** Media address/port written into SDP (-mi/-mp). */
  mediaIp?: string;
  mediaPort?: number;
  /** Global timeout in seconds: SIPp quits by itself (default 60 for a UAC, 600 for a UAS). */
  timeoutS?: number;
  /** Per-message receive timeout for a UAC, ms (default 4000). */
  recvTimeoutMs?: number;
  uac?: UacScenarioOptions;
  /** A scenario of the caller's own (XML text), instead of the built-in UAS/UAC ones. */
  scenario?: string;
  extraArgs?: string[];
}

export interface SippFiles {
  scenario: string;
  messages: string;
  stats: string;
  errors: string;
}

export function sippFiles(o: Pick<SippOptions, 'dir' | 'name'>): SippFiles {
  const base = path.join(o.dir, o.name.replace(/[^a-zA-Z0-9_.-]/g, '_'));
  return {
    scenario: `${base}.xml`,
    messages: `${base}.messages.log`,
    stats: `${base}.stats.csv`,
    errors: `${base}.errors.log`,
  };
}

/** The SIPp command line for these options (pure). */
export function sippArgv(o: SippOptions): string[] {
  const f = sippFiles(o);
  const a = ['sipp'];
  if (o.role === 'uac') {
    if (!o.remote) throw new Error('a SIPp UAC needs remote host:port');
    a.push(o.remote);
  }
  a.push('-sf', f.scenario, '-i', o.localIp, '-p', String(o.localPort), '-t', o.transport === 'tcp' ? 't1' : 'u1');
  a.push('-nostdin', '-skip_rlimit', '-bind_local');
  a.push('-trace_stat', '-stf', f.stats, '-fd', '1', '-trace_err', '-error_file', f.errors);
  if (o.traceMessages ?? true) a.push('-trace_msg', '-message_file', f.messages);
  if (o.mediaIp) a.push('-mi', o.mediaIp);
  if (o.mediaPort) a.push('-mp', String(o.mediaPort));
  a.push('-timeout', `${o.timeoutS ?? (o.role === 'uac' ? 60 : 600)}s`);
  if (o.role === 'uac') {
    a.push('-m', String(o.calls ?? 1), '-r', String(o.rate ?? 10), '-recv_timeout', `${o.recvTimeoutMs ?? 4000}ms`);
    if (o.limit) a.push('-l', String(o.limit));
  }
  a.push(...(o.extraArgs ?? []));
  return a;
}

export async function startSipp(o: SippOptions): Promise<ManagedProcess> {
  const f = sippFiles(o);
  await writeFile(f.scenario, o.scenario ?? (o.role === 'uas' ? uasScenario() : uacScenario(o.uac)));
  return startProcess(sippArgv(o), { name: `sipp ${o.name}`, cwd: o.dir, installHint: 'apt-get install sip-tester' });
}

/** One SIP message from a SIPp message log. */
export interface LoggedMessage {
  direction: 'sent' | 'received';
  text: string;
  /** First line, e.g. "INVITE sip:x@y SIP/2.0" or "SIP/2.0 200 OK". */
  startLine: string;
  method?: string;
  status?: number;
  headers: Record<string, string[]>;
}

/** Parses SIPp's -trace_msg log (pure). */
export function parseMessageLog(log: string): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  for (const chunk of log.split(/^-{20,}.*$/m)) {
    const m = chunk.match(/^\s*(?:UDP|TCP|TLS|SCTP) message (sent|received)[^\n]*\n\n([\s\S]*)$/);
    if (!m) continue;
    const text = (m[2] ?? '').replace(/\r/g, '').trim();
    const lines = text.split('\n');
    const startLine = lines[0] ?? '';
    const headers: Record<string, string[]> = {};
    for (const l of lines.slice(1)) {
      if (l === '') break;
      const i = l.indexOf(':');
      if (i <= 0) continue;
      const k = l.slice(0, i).trim().toLowerCase();
      (headers[k] ??= []).push(l.slice(i + 1).trim());
    }
    const st = startLine.match(/^SIP\/2\.0 (\d{3})/);
    const rq = startLine.match(/^([A-Z]+) \S+ SIP\/2\.0/);
    out.push({
      direction: m[1] as 'sent' | 'received',
      text,
      startLine,
      headers,
      ...(st ? { status: Number(st[1]) } : {}),
      ...(rq ? { method: rq[1] } : {}),
    });
  }
  return out;
}

export async function readMessages(files: SippFiles): Promise<LoggedMessage[]> {
  if (!existsSync(files.messages)) return [];
  return parseMessageLog(await readFile(files.messages, 'utf8'));
}

export interface SippStats {
  successful: number;
  failed: number;
  created: number;
  current: number;
  /** Every column of the last row, by header name. */
  raw: Record<string, string>;
}

/** Last row of SIPp's -trace_stat CSV (pure). */
export function parseStats(csv: string): SippStats | undefined {
  const rows = csv.split('\n').filter((l) => l.trim() !== '');
  if (rows.length < 2) return undefined;
  const names = (rows[0] ?? '').split(';');
  const last = (rows[rows.length - 1] ?? '').split(';');
  const raw: Record<string, string> = {};
  names.forEach((n, i) => (raw[n] = last[i] ?? ''));
  const num = (k: string): number => Number(raw[k] ?? 0) || 0;
  return {
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    created: num('TotalCallCreated'),
    current: num('CurrentCall'),
    raw,
  };
}

export async function readStats(files: SippFiles): Promise<SippStats | undefined> {
  if (!existsSync(files.stats)) return undefined;
  return parseStats(await readFile(files.stats, 'utf8'));
}
