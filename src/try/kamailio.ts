// Kamailio (the pinned build first on the live tests' PATH, else Debian's) in the foreground on loopback, from a rendered tree.
// Ready = the process is still alive and every expected socket is bound (read from /proc/net).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KAMAILIO_UNIT, kamailioArgvFromUnit } from '../contract/kamailio-args.js';
import { startProcess, type ManagedProcess } from './process.js';
import { CTL_SOCKET_IN_TREE, socketPathProblem } from './run-dir.js';

export interface Listener {
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

export interface KamailioOptions {
  /** The rendered tree (render --local); the config is OUT/etc/kamailio/kamailio.cfg. */
  tree: string;
  sharedMb: number;
  privateMb: number;
  /** Sockets that must be bound before the proxy counts as ready. */
  listeners: Listener[];
  /** Kamailio's stderr/stdout also go here. */
  logFile?: string;
  readyTimeoutMs?: number;
  /** The kamailio binary (default: `kamailio` on PATH, the pinned build in the live tests). */
  bin?: string;
}

/** The tree's own kamailio.service ExecStart= (src/contract/kamailio-args.ts), run from the tree with -E. */
export function kamailioArgv(o: Pick<KamailioOptions, 'tree' | 'bin'>): string[] {
  return kamailioArgvFromUnit(readFileSync(path.join(o.tree, KAMAILIO_UNIT), 'utf8'), o.tree, o.bin);
}

function hexAddr(host: string, port: number): string {
  const ip = host
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  return `${ip}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Is host:port bound (UDP) or listening (TCP) on this machine? Reads /proc/net/{udp,tcp}. */
export async function isBound(l: Listener): Promise<boolean> {
  const table = await readFile(l.transport === 'udp' ? '/proc/net/udp' : '/proc/net/tcp', 'utf8');
  const want = hexAddr(l.host, l.port);
  return table.split('\n').some((row) => {
    const cols = row.trim().split(/\s+/);
    // TCP: state 0A = LISTEN
    return cols[1] === want && (l.transport === 'udp' || cols[3] === '0A');
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startKamailio(o: KamailioOptions): Promise<ManagedProcess> {
  // Kamailio would only log "name too long" and exit: say it here, before it starts.
  const tooLong = socketPathProblem(path.join(o.tree, CTL_SOCKET_IN_TREE));
  if (tooLong) throw tooLong;
  const p = startProcess(kamailioArgv(o), {
    name: 'kamailio',
    ...(o.logFile ? { logFile: o.logFile } : {}),
    installHint: 'apt-get install kamailio',
  });
  const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (!p.running)
      throw p.failure('exited during start-up', 'read the output above: usually a config error in the rendered kamailio.cfg or an address already in use');
    const bound = await Promise.all(o.listeners.map(isBound));
    // Kamailio binds before forking its workers; give them a moment so the first request finds them.
    if (bound.every(Boolean)) {
      await sleep(300);
      if (p.running) return p;
    }
    if (Date.now() > deadline) {
      await p.stop();
      const missing = o.listeners.filter((_, i) => !bound[i]).map((l) => `${l.transport}:${l.host}:${l.port}`);
      throw p.failure(`did not bind ${missing.join(', ')} within ${o.readyTimeoutMs ?? 15_000} ms`);
    }
    await sleep(100);
  }
}
