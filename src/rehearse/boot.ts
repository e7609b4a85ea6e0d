import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BOOT_INCLUDE_PATH } from '../contract/boot-include.js';
import { readBootResult } from '../contract/boot-result.js';
import { AbortError, UserError } from '../core/errors.js';

// An instance's boot in the rehearsal: the rendered tree's own agent (`agent.mjs boot`, what sipbake-boot.service
// runs before kamailio and rtpproxy) inside the instance's namespace, against its IMDSv2 fake forwarded to
// 127.0.0.1:1338, with SIPBAKE_ROOT at the tree (the same conventions as test/agent/boot*.test.ts). The rehearsal's
// images need no secrets (file dispatcher backend, no TLS): static keys keep the SDK's chain off IMDS role
// credentials, which the fake does not serve.

/** What the boot agent wrote, read back from the tree's boot include (never its text: it may hold a DB URL). */
export interface InstanceBoot {
  /** The include's first line (the agent's header). */
  header: string;
  privateIp: string;
  publicIp: string;
  peerNet: string;
  /** Files the agent reported writing (its run/sipbake/boot.json), relative to the tree. */
  files: string[];
}

/** A locally administered MAC for instance k (IMDS `mac`, the key of network/interfaces/macs/). */
export function instanceMac(k: number): string {
  return `02:5b:00:00:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 0xff).toString(16).padStart(2, '0')}`;
}

/** Pure: the values of the include's defines the rehearsal checks. */
export function parseBootInclude(text: string): Omit<InstanceBoot, 'files'> {
  const def = (name: string) => new RegExp(`^#!define ${name} "?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
  return {
    header: text.split('\n', 1)[0] ?? '',
    privateIp: def('SIPBAKE_PRIVATE_IP'),
    publicIp: def('SIPBAKE_PUBLIC_IP'),
    peerNet: def('SIPBAKE_PEER_NET'),
  };
}

/**
 * `env` and what the image's agent (boot and drain alike) gets in an instance namespace: static keys keep the SDK's
 * credential chain off IMDS role credentials, and the instance's IMDSv2 is the forwarder on 127.0.0.1:1338.
 */
export function agentEnv(tree: string): string[] {
  return [
    'env',
    'AWS_ACCESS_KEY_ID=rehearsal',
    'AWS_SECRET_ACCESS_KEY=rehearsal',
    'AWS_REGION=us-east-1',
    'AWS_EC2_METADATA_DISABLED=true',
    `SIPBAKE_ROOT=${tree}`,
    'SIPBAKE_IMDS_ENDPOINT=http://127.0.0.1:1338',
  ];
}

export async function bootInstance(nsx: string[], tree: string, id: string, logFile: string, signal?: AbortSignal): Promise<InstanceBoot> {
  const argv = [
    ...nsx,
    ...agentEnv(tree),
    // Bounded: the IMDS is local; a boot that cannot read it fails the rehearsal in seconds, not minutes.
    'SIPBAKE_IMDS_TIMEOUT_SECONDS=15',
    'SIPBAKE_BOOT_DEADLINE_SECONDS=20',
    process.execPath,
    path.join(tree, 'usr/local/lib/sipbake/agent.mjs'),
    'boot',
  ];
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('bootInstance: an empty command');
  const { code, output } = await new Promise<{ code: number | string | null; output: string }>((resolve) => {
    execFile(file, args, { timeout: 60_000, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!err) return resolve({ code: 0, output });
      const e = err as NodeJS.ErrnoException & { code?: number | string | null; killed?: boolean };
      resolve({ code: e.killed ? 'timeout' : (e.code ?? null), output: output || e.message });
    });
  });
  await writeFile(logFile, `${output}\n`).catch(() => undefined);
  if (signal?.aborted) throw new AbortError('rehearsal interrupted');
  if (code !== 0) {
    throw new UserError(
      `instance ${id}: the boot agent (agent.mjs boot) failed (${code === 'timeout' ? 'no exit within 60 s' : `exit ${String(code)}`}):\n${output}`,
      'the instance would not start Kamailio; fix what the agent says (the rehearsal image or its IMDS)',
    );
  }
  const text = await readFile(path.join(tree, BOOT_INCLUDE_PATH), 'utf8');
  const result = await readBootResult(tree);
  return { ...parseBootInclude(text), files: (result?.files ?? []).map((f) => path.relative(tree, f)) };
}
