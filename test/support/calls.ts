// Call-level helpers over SIPp: run N calls from a UAC and wait for it to finish; a UAS whose
// received messages can be read at any time.
import { startSipp, sippFiles, readMessages, readStats, type LoggedMessage, type SippOptions, type SippStats } from '../../src/try/sipp.js';
import type { Exit, ManagedProcess } from '../../src/try/process.js';

export interface CallRun {
  exit: Exit;
  stats: SippStats | undefined;
  messages: LoggedMessage[];
  output: string;
}

/** Runs a SIPp UAC to completion (bounded by its own -timeout and by waitMs). */
export async function runCalls(o: Omit<SippOptions, 'role'> & { waitMs?: number }): Promise<CallRun> {
  const p = await startSipp({ ...o, role: 'uac' });
  const exit = await p.waitExit(o.waitMs ?? ((o.timeoutS ?? 60) + 10) * 1000);
  const files = sippFiles(o);
  return { exit, stats: await readStats(files), messages: await readMessages(files), output: p.text() };
}

export interface Uas {
  process: ManagedProcess;
  host: string;
  port: number;
  /** Messages received and sent so far (from its message log). */
  messages(): Promise<LoggedMessage[]>;
  /** Initial INVITEs received so far (retransmissions counted once, by Call-ID). */
  invites(): Promise<LoggedMessage[]>;
  stop(): Promise<void>;
}

export async function startUas(o: Omit<SippOptions, 'role'>): Promise<Uas> {
  const process = await startSipp({ ...o, role: 'uas' });
  const files = sippFiles(o);
  // SIPp binds right away; wait until it is actually running its scenario.
  await new Promise((r) => setTimeout(r, 300));
  if (!process.running) throw process.failure('exited during start-up');
  const messages = (): Promise<LoggedMessage[]> => readMessages(files);
  return {
    process,
    host: o.localIp,
    port: o.localPort,
    messages,
    async invites() {
      const seen = new Set<string>();
      return (await messages()).filter((m) => {
        if (m.direction !== 'received' || m.method !== 'INVITE') return false;
        const id = m.headers['call-id']?.[0] ?? '';
        if (seen.has(id) || (m.headers.to?.[0] ?? '').includes('tag=')) return false;
        seen.add(id);
        return true;
      });
    },
    async stop() {
      await process.stop('SIGTERM', 2000);
    },
  };
}
