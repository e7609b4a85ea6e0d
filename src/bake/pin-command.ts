// `sipbake pin COMPONENT VERSION [--tarball]`: resolve a source and record it in scripts/pins.env.
// A tarball's sha256 is computed here from the bytes downloaded, never typed in; a git pin records the
// commit the tag points at (git ls-remote). Pure: the pins.env edit. Effects: download, ls-remote, write.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../core/errors.js';

export const COMPONENTS = ['kamailio', 'rtpproxy', 'ssm-agent'] as const;
type Component = (typeof COMPONENTS)[number];

interface ComponentInfo {
  key: string;
  gitUrl?: string;
  tag?: (v: string) => string;
  tarballUrl: (v: string) => string;
  /** Only tarball pins (no git source). */
  tarballOnly?: boolean;
}

const COMPONENT_INFO: Record<Component, ComponentInfo> = {
  kamailio: {
    key: 'KAMAILIO',
    gitUrl: 'https://github.com/kamailio/kamailio.git',
    tag: (v) => v,
    tarballUrl: (v) => `https://www.kamailio.org/pub/kamailio/${v}/src/kamailio-${v}_src.tar.gz`,
  },
  rtpproxy: {
    key: 'RTPPROXY',
    gitUrl: 'https://github.com/sippy/rtpproxy.git',
    tag: (v) => `v${v}`,
    tarballUrl: (v) => `https://github.com/sippy/rtpproxy/archive/refs/tags/v${v}.tar.gz`,
  },
  'ssm-agent': {
    key: 'SSM_AGENT',
    tarballOnly: true,
    tarballUrl: (v) => `https://s3.amazonaws.com/amazon-ssm-us-east-1/${v}/{arch}/amazon-ssm-agent.deb`,
  },
};

/** Pure: set KEY=value lines in pins.env text, keeping everything else (comments, order) as it is. */
export function setPins(text: string, values: Record<string, string>): string {
  let out = text;
  for (const [k, v] of Object.entries(values)) {
    if (!/^[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*$/.test(v))
      throw new UserError(`refusing to write ${JSON.stringify(v)} into pins.env`, 'use a plain URL and version');
    const re = new RegExp(`^${k}=.*$`, 'm');
    out = re.test(out) ? out.replace(re, `${k}=${v}`) : `${out.replace(/\n?$/, '\n')}${k}=${v}\n`;
  }
  return out;
}

async function sha256Url(url: string, signal?: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    throw new UserError(`could not download ${url}: ${(e as Error).message}`, 'check the network (pin needs internet) and the version', { cause: e });
  }
  if (!res.ok || !res.body) throw new UserError(`could not download ${url}: HTTP ${res.status}`, 'check that this version exists upstream');
  const h = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
  return h.digest('hex');
}

/** The commit a tag points at (peeled for annotated tags). */
async function tagCommit(url: string, tag: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await execa('git', ['ls-remote', url, `refs/tags/${tag}`, `refs/tags/${tag}^{}`], { reject: false, env });
  if (r.exitCode !== 0)
    throw new UserError(`git ls-remote ${url} failed: ${String(r.stderr).trim().split('\n').at(-1)}`, 'check the network (pin needs internet) and the URL');
  const lines = String(r.stdout)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t') as [string, string]);
  const peeled = lines.find(([, ref]) => ref.endsWith('^{}')) ?? lines[0];
  if (!peeled) throw new UserError(`${url} has no tag ${tag}`, 'check the version');
  return peeled[0];
}

export interface PinOptions {
  component: Component;
  version: string;
  tarball: boolean;
  /** Overrides the upstream URL (a mirror, or a local server in tests). For ssm-agent, {arch} is replaced. */
  url?: string;
}

export interface PinResult {
  component: Component;
  values: Record<string, string>;
}

export async function pinSource(root: string, o: PinOptions, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<PinResult> {
  const info = COMPONENT_INFO[o.component];
  if (!/^[0-9A-Za-z._-]+$/.test(o.version)) throw new UserError(`"${o.version}" does not look like a version`, `e.g. npx sipbake pin ${o.component} 5.5.7`);
  const k = info.key;
  let values: Record<string, string>;
  if (o.component === 'ssm-agent') {
    const tpl = o.url ?? info.tarballUrl(o.version);
    const amd = tpl.replace('{arch}', 'debian_amd64');
    const arm = tpl.replace('{arch}', 'debian_arm64');
    values = {
      [`${k}_VERSION`]: o.version,
      [`${k}_X86_64_URL`]: amd,
      [`${k}_X86_64_SHA256`]: await sha256Url(amd, signal),
      [`${k}_ARM64_URL`]: arm,
      [`${k}_ARM64_SHA256`]: await sha256Url(arm, signal),
    };
  } else if (o.tarball || info.tarballOnly) {
    const url = o.url ?? info.tarballUrl(o.version);
    values = {
      [`${k}_VERSION`]: o.version,
      [`${k}_SOURCE`]: 'tarball',
      [`${k}_TARBALL_URL`]: url,
      [`${k}_TARBALL_SHA256`]: await sha256Url(url, signal),
    };
  } else {
    const url = o.url ?? info.gitUrl;
    if (url === undefined || info.tag === undefined) throw new Error(`${o.component} has no git source to pin`);
    const tag = info.tag(o.version);
    values = {
      [`${k}_VERSION`]: o.version,
      [`${k}_SOURCE`]: 'git',
      [`${k}_GIT_URL`]: url,
      [`${k}_GIT_TAG`]: tag,
      [`${k}_GIT_COMMIT`]: await tagCommit(url, tag, env),
    };
  }
  const file = path.join(root, 'scripts/pins.env');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`${file} not found`, 'run sipbake pin from the repository root (or pass --root)');
  }
  await writeFile(file, setPins(text, values));
  return { component: o.component, values };
}
