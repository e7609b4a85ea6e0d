// Set-up for build orchestration tests: a repository-shaped temp dir, per-region EC2 fakes and a fake packer.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import { linkRegions } from '../fakes/aws/fake-aws.js';
import type { IamOptions } from '../fakes/aws/iam.js';
import { repoRoot } from './helpers.js';

export interface BuildFixture {
  root: string;
  bin: string;
  log: string;
  cleaned: string;
  regions: Map<string, FakeAwsHandle>;
  ec2For: (region: string) => FakeAwsHandle['clients']['ec2'];
  env: (mode?: string) => NodeJS.ProcessEnv;
  calls: () => Promise<{ argv: string[]; cwd: string }[]>;
  cleanup: () => Promise<void>;
}

/** A repository with the seed images (optionally edited), scripts/ with a fully pinned pins.env, and fakes. */
export async function buildFixture(o: {
  regions: string[];
  edit?: (name: string, yaml: string) => string;
  /** false: pins.env without the SSM agent key fingerprint (not ready for a bake). */
  pinsReady?: boolean;
  /** Keep scripts/pins.env exactly as checked in. */
  pinsAsShipped?: boolean;
  /** IAM evaluation of every call: the build role of this image (default twilio-relay) as `sipbake iam build` prints it. */
  iam?: Omit<IamOptions, 'role' | 'root'>;
  amiSeconds?: number;
  consistencyLagSeconds?: number;
}): Promise<BuildFixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'sipbake-build-'));
  await mkdir(path.join(root, 'images'));
  for (const name of ['twilio-relay', 'recorder-lb']) {
    const text = await readFile(path.join(repoRoot, 'images', `${name}.yaml`), 'utf8');
    await writeFile(path.join(root, 'images', `${name}.yaml`), o.edit ? o.edit(name, text) : text);
  }
  await cp(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'), { recursive: true });
  if (o.pinsReady === false) {
    const pins = (await readFile(path.join(root, 'scripts/pins.env'), 'utf8')).replace(/^SSM_AGENT_KEY_FINGERPRINT=.*$/m, 'SSM_AGENT_KEY_FINGERPRINT=');
    await writeFile(path.join(root, 'scripts/pins.env'), pins);
  } else if (!o.pinsAsShipped) {
    // Test-only pin values: nothing is downloaded from these.
    const pins = (await readFile(path.join(root, 'scripts/pins.env'), 'utf8')).replace(
      /^SSM_AGENT_X86_64_URL=.*$/m,
      'SSM_AGENT_X86_64_URL=http://127.0.0.1:9/amazon-ssm-agent.deb',
    );
    await writeFile(path.join(root, 'scripts/pins.env'), pins);
  }
  // A private TMPDIR: bake directories of suites running in parallel never mix with this one's.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = path.join(root, 'tmp');
  await mkdir(process.env.TMPDIR);
  const bin = path.join(root, 'bin');
  await mkdir(bin);
  await symlink(path.join(repoRoot, 'test/fakes/packer/packer.mjs'), path.join(bin, 'packer'));
  const log = path.join(root, 'packer-calls.jsonl');
  const cleaned = path.join(root, 'packer-cleaned');
  // One fake per region (one account), each evaluating calls against `sipbake iam build --image IMAGE`.
  const regions = new Map(
    o.regions.map(
      (r) =>
        [
          r,
          createFakeAws({
            region: r,
            amiSeconds: o.amiSeconds ?? 0,
            consistencyLagSeconds: o.consistencyLagSeconds ?? 0,
            iam: { image: 'twilio-relay', ...o.iam, role: 'build', root },
          }),
        ] as const,
    ),
  );
  linkRegions([...regions].map(([r, h]) => [r, h.fake] as const));
  return {
    root,
    bin,
    log,
    cleaned,
    regions,
    ec2For: (r) => {
      const h = regions.get(r);
      if (!h) throw new Error(`test: no fake for region ${r}`);
      return h.clients.ec2;
    },
    env: (mode = 'ok') => ({
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_PACKER_LOG: log,
      FAKE_PACKER_MODE: mode,
      FAKE_PACKER_CLEANED: cleaned,
    }),
    calls: async () =>
      existsSync(log)
        ? (await readFile(log, 'utf8'))
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
        : [],
    cleanup: async () => {
      for (const h of regions.values()) h.restore();
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
      await rm(root, { recursive: true, force: true });
    },
  };
}
