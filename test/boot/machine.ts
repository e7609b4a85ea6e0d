// Test support: bake a boot image locally (cached), and boot it in its namespace with its endpoints served.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingReporter } from '../../src/core/reporter.js';
import { buildLocal, DEFAULT_CACHE, type LocalBuildResult } from '../../src/bake/local/index.js';
import { agentDropIn, serveInstance, type InstanceEndpoints } from '../../src/boot/endpoints.js';
import { bootMachine, type Machine } from '../../src/boot/machine.js';
import { createBootNet, destroyBootNet, pointImdsAt } from '../../src/boot/net.js';
import { repoRoot } from '../bake/helpers.js';
import { BOOT_IMAGES, bootDefinition, type BootImage } from './images.js';

const CACHE = process.env.SIPBAKE_CACHE_DIR ?? DEFAULT_CACHE;
export const HOOK = 'sipbake-drain';

/**
 * Bakes one boot image; both boot images share one compile stage (the union of their module sets, compiled once:
 * src/bake/local/share.ts), so CI compiles Kamailio and RTPProxy for them once, not twice.
 */
export async function bakeBootImage(
  b: BootImage,
  defs: string,
  o: { force?: boolean; cacheDir?: string } = {},
): Promise<{ r: LocalBuildResult; file: string }> {
  const cache = o.cacheDir ?? CACHE;
  const file = await bootDefinition(b, defs);
  const others = await Promise.all(
    Object.values(BOOT_IMAGES)
      .filter((x) => x.seed !== b.seed)
      .map((x) => bootDefinition(x, defs)),
  );
  const r = await buildLocal(
    { image: file, out: path.join(cache, 'local', 'boot-test', b.seed), shareCompileWith: others, ...(o.force ? { force: true } : {}) },
    { root: repoRoot, reporter: new RecordingReporter(), signal: new AbortController().signal, cacheDir: cache },
  );
  return { r, file };
}

export interface Booted {
  machine: Machine;
  endpoints: InstanceEndpoints;
  /** `systemctl is-system-running --wait`: running, or degraded when a unit failed. */
  state: string;
  bootSeconds: number;
  sh(cmd: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** The guest's journal as text lines, also after it has shut down. */
  journal(): Promise<string[]>;
  close(): Promise<void>;
}

export async function bootImage(b: BootImage, rootfs: string, binds: { host: string; guest: string }[] = []): Promise<Booted> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-boot-'));
  let endpoints: InstanceEndpoints | undefined;
  let machine: Machine | undefined;
  const close = async () => {
    await machine?.stop(30_000);
    await endpoints?.close();
    await destroyBootNet(b.net);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await createBootNet(b.net);
    endpoints = await serveInstance(b.net, dir, {
      instanceId: `i-0b007${b.seed === 'twilio-relay' ? '1' : '2'}00000000000`,
      region: 'us-east-1',
      groupName: `sipbake-boot-${b.seed}`,
      hookName: HOOK,
      hookTimeoutSeconds: 120,
    });
    await pointImdsAt(b.net, endpoints.imdsPort);
    await mkdir(path.join(dir, 'journal'));
    const dropIn = path.join(dir, 'endpoints.conf');
    await writeFile(dropIn, agentDropIn(endpoints));
    const t0 = performance.now();
    machine = await bootMachine({
      root: rootfs,
      name: b.net.ns,
      netnsPath: `/run/netns/${b.net.ns}`,
      journalDir: path.join(dir, 'journal'),
      bindRo: [{ host: dropIn, guest: '/etc/systemd/system/sipbake-drain.service.d/endpoints.conf' }, ...binds],
      timeoutMs: 60_000,
    });
    const m = machine;
    const r = await m.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 240_000 });
    return {
      machine: m,
      endpoints,
      state: r.stdout.trim(),
      bootSeconds: Math.round((performance.now() - t0) / 100) / 10,
      sh: (cmd) => m.exec(['sh', '-c', cmd]),
      journal: async () => String((await execa('journalctl', ['-D', path.join(dir, 'journal'), '--no-pager', '-o', 'short-monotonic'])).stdout).split('\n'),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

export { tcpOpen } from '../../src/try/ports.js';
