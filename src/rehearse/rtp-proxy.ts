// The real RTPProxy of a rehearsal instance, run from the rendered tree's own unit: rtpproxy.service's ExecStart
// with its two EnvironmentFiles (rtpproxy.env from the render, rtpproxy-boot.env from the boot agent), expanded as
// systemd does ($VAR splits on white space; systemd.service "Command lines", systemd.exec "EnvironmentFile=").
// Only the binary (the pinned build on PATH) and the pidfile (under the tree) change. Pure, except readRtpproxyUnit.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RTPPROXY_BOOT_ENV_PATH, RTPPROXY_PIDFILE } from '../contract/rtpproxy-args.js';
import { rtpproxyBinary } from '../try/upstream.js';
import type { ManagedProcess } from '../try/process.js';
import { sleep, start, type Rig } from './rig.js';

const UNIT = 'etc/systemd/system/rtpproxy.service';

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw.trim());
    const [, k, v] = m ?? [];
    if (k === undefined || v === undefined) continue;
    env[k] = /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
  }
  return env;
}

/** The unit's directives, in order (EnvironmentFile= may repeat). */
function directives(unit: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of unit.split('\n')) {
    const [, k, v] = /^([A-Za-z]+)=(.*)$/.exec(line.trim()) ?? [];
    if (k !== undefined && v !== undefined) (out[k] ??= []).push(v);
  }
  return out;
}

/** Pure: ExecStart expanded with the env files' values; the pidfile moved into `tree`, the binary replaced. */
export function rtpproxyArgvFromUnit(unit: string, envFiles: readonly string[], tree: string, bin: string): string[] {
  const exec = directives(unit).ExecStart?.[0];
  if (!exec) throw new Error(`${UNIT} has no ExecStart= line; render the image again`);
  const env = Object.assign({}, ...envFiles.map(parseEnvFile)) as Record<string, string>;
  const words = exec
    .trim()
    .split(/\s+/)
    .flatMap((w) => {
      const v = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
      return v?.[1] !== undefined ? (env[v[1]] ?? '').split(/\s+/).filter(Boolean) : [w];
    });
  if (!words.includes('-l')) throw new Error(`rtpproxy's command line has no -l: ${path.join(tree, RTPPROXY_BOOT_ENV_PATH)} was not written by the boot agent`);
  return [bin, ...words.slice(1).map((w) => (w === RTPPROXY_PIDFILE ? rtpproxyPidfile(tree) : w))];
}

function rtpproxyPidfile(tree: string): string {
  return path.join(tree, 'run/rtpproxy.pid');
}

/** Reads the tree's unit and env files (the boot agent must have run). */
async function readRtpproxyUnit(tree: string, bin: string): Promise<string[]> {
  const unit = await readFile(path.join(tree, UNIT), 'utf8');
  const files = (directives(unit).EnvironmentFile ?? []).map((f) => path.join(tree, f.replace(/^-/, '')));
  return rtpproxyArgvFromUnit(unit, await Promise.all(files.map((f) => readFile(f, 'utf8'))), tree, bin);
}

/**
 * Starts instance k's RTPProxy inside its namespace (nsx: `ip netns exec NS`) and waits until it wrote its pidfile
 * (after its sockets are bound). undefined when this machine has no rtpproxy (then the stand-in serves: ns-helper).
 */
export async function startRtpproxy(rig: Rig, nsx: string[], tree: string, id: string, k: number): Promise<ManagedProcess | undefined> {
  const bin = rtpproxyBinary();
  if (!bin) return undefined;
  const p = start(rig, [...nsx, ...(await readRtpproxyUnit(tree, bin))], `rtpproxy ${id}`, `rtpproxy-${k}.log`);
  const deadline = Date.now() + 10_000;
  while (!existsSync(rtpproxyPidfile(tree))) {
    if (!p.running) throw p.failure('exited during start-up', `read ${path.join(rig.dir, `rtpproxy-${k}.log`)}`);
    if (Date.now() > deadline) throw p.failure('wrote no pidfile within 10 s', `read ${path.join(rig.dir, `rtpproxy-${k}.log`)}`);
    await sleep(50);
  }
  return p;
}
