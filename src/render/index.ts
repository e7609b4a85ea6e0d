import { DbUrlError, postgresDbUrl } from '../contract/db-url.js';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { loadImageOrThrow } from '../definition/load.js';
import type { ImageDefinition } from '../definition/schema.js';
import { bundleAgent } from './bundle.js';
import { loadTemplates } from './templates.js';
import { planRender, withLocalBoot, type RenderPlan } from './plan.js';
import { checkOutDir, writeTreeAtomic } from './write.js';
import { UserError } from '../core/errors.js';

export interface LocalOptions {
  privateIp: string;
  publicIp: string;
  /** Postgres backend: the password for the loopback DB URL (never written anywhere else). */
  dbPassword?: string;
}

export interface RenderOptions {
  out: string;
  local?: LocalOptions;
}

export interface RenderResult {
  outDir: string;
  file: string;
  plan: RenderPlan;
}

/** Load (files), plan (pure), apply (one atomic tree write). */
export async function renderImage(root: string, nameOrPath: string, opts: RenderOptions): Promise<RenderResult> {
  // Refuse a dangerous --out before any work (and again at the write, which may come much later).
  await checkOutDir(opts.out);
  const { image, file } = await loadImageOrThrow(root, nameOrPath, opts.local ? { local: true } : {});
  return { ...(await renderDefinition(root, image, opts)), file };
}

/** Plan and write an already loaded (validated) definition: the bake and `try` hand theirs on. */
export async function renderDefinition(root: string, image: ImageDefinition, opts: RenderOptions): Promise<Omit<RenderResult, 'file'>> {
  await checkOutDir(opts.out);
  const plan = await planImage(root, image);
  const outDir = path.resolve(opts.out);
  const final = opts.local ? withLocalBoot(plan, { ...opts.local, root: outDir, ...localDbUrl(image, opts.local) }) : plan;
  await writeTreeAtomic(final, outDir, opts.local && image.tls.enabled ? (tmp) => localTlsPair(image, tmp) : undefined);
  return { outDir, plan: final };
}

export async function planImage(root: string, image: ImageDefinition): Promise<RenderPlan> {
  const [templates, agentBundle] = await Promise.all([loadTemplates(root), bundleAgent()]);
  return planRender(image, { templates, agentBundle });
}

function localDbUrl(image: ImageDefinition, local: LocalOptions): { dbUrl?: string } {
  const b = image.dispatcher?.backend;
  if (b?.type !== 'postgres') return {};
  // The one db_url builder (src/contract/db-url.ts), the same the boot agent uses.
  try {
    return { dbUrl: postgresDbUrl(b, local.dbPassword) };
  } catch (e) {
    if (e instanceof DbUrlError)
      throw new UserError(
        `--db-password-env: the database ${e.field} cannot be used: ${e.problem}`,
        e.field === 'password' ? "use a password with no '/' before its first '@'" : `fix dispatcher.backend.${e.field}`,
      );
    throw e;
  }
}

/** --local with TLS: a throwaway self-signed pair inside the tree, where the boot include points. */
async function localTlsPair(image: ImageDefinition, tmpRoot: string): Promise<void> {
  const cert = path.join(tmpRoot, image.tls.certificate);
  const key = path.join(tmpRoot, image.tls.privateKey);
  if (existsSync(cert) && existsSync(key)) return;
  await mkdir(path.dirname(cert), { recursive: true });
  await mkdir(path.dirname(key), { recursive: true });
  try {
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sipbake-local', '-keyout', key, '-out', cert], {
      stdio: 'pipe',
    });
  } catch (e) {
    throw new UserError('could not generate a local TLS certificate with openssl', 'install openssl (apt-get install openssl), or render without --local', {
      cause: e,
    });
  }
}
