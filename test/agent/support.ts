import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { KamailioRpc } from '../../src/agent/kamailio-rpc.js';
import { bundleAgent } from '../../src/render/bundle.js';
import { imageSchema, type ImageDefinition } from '../../src/definition/schema.js';
import { imageManifest } from '../../src/contract/image-manifest.js';
import { modulesFor } from '../../src/render/view.js';
import { seed, variant } from '../render/fixtures.js';

// Agent test helpers: the bundled agent on disk, a throwaway root with the renderer's own manifest,
// and a bounded child-process runner.

export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  // never reach a real AWS endpoint, whatever the SDK decides to do
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  HTTP_PROXY: '',
  HTTPS_PROXY: '',
};

/** Node used to run the bundle: SIPBAKE_TEST_NODE (e.g. Debian's node 18) or this one. */
export const agentNode = process.env.SIPBAKE_TEST_NODE ?? process.execPath;

export async function image(name: 'twilio-relay' | 'recorder-lb', patch: Record<string, unknown> = {}): Promise<ImageDefinition> {
  return imageSchema.parse(variant(await seed(name), patch));
}

export interface TempRoot {
  root: string;
  agent: string;
  cleanup(): Promise<void>;
}

/** A filesystem root holding etc/sipbake/image.json (as the renderer writes it) and the bundled agent. */
export async function agentRoot(def: ImageDefinition): Promise<TempRoot> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sipbake-agent-'));
  await mkdir(path.join(root, 'etc/sipbake'), { recursive: true });
  await mkdir(path.join(root, 'etc/kamailio'), { recursive: true });
  await writeFile(path.join(root, 'etc/sipbake/image.json'), `${JSON.stringify(imageManifest(def, modulesFor(def)), null, 2)}\n`);
  const agent = path.join(root, 'agent.mjs');
  await writeFile(agent, await bundleAgent(), { mode: 0o755 });
  return { root, agent, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function runAgent(agent: string, command: string, env: Record<string, string>, timeoutMs = 30_000) {
  return execa(agentNode, [agent, command], {
    env: { ...FAKE_AWS_ENV, ...env },
    extendEnv: true,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
}

/** A scripted Kamailio on a simulated clock: its calls end at the given seconds after the drain flag is set. */
export function callsEndingAt(clock: { readonly nowMs: number }, endAtSeconds: number[]): KamailioRpc & { drainingSetAt?: number } {
  const k: KamailioRpc & { drainingSetAt?: number } = {
    alive: async () => true,
    processAlive: async () => true,
    setDraining: async () => {
      k.drainingSetAt ??= clock.nowMs;
    },
    setHandoff: async () => {},
    transactions: async () => 0,
    activeDialogs: async () => {
      const since = k.drainingSetAt === undefined ? 0 : (clock.nowMs - k.drainingSetAt) / 1000;
      return endAtSeconds.filter((t) => t > since).length;
    },
  };
  return k;
}
