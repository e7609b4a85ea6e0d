import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { packerVars, varFile } from '../../src/bake/vars.js';

const root = path.resolve(import.meta.dirname, '../..');

async function vars(edit: (b: Record<string, unknown>) => void = () => undefined) {
  const { image } = await loadImageOrThrow(root, 'twilio-relay');
  const img = structuredClone(image);
  edit(img.bake);
  return packerVars({
    image: img,
    contentHash: 'a'.repeat(64),
    contentParts: 'definition=aaaaaaaaaaaa',
    kamailioVersion: '5.5.7',
    rtpproxyVersion: '3.2.0',
    gitCommit: 'abc',
    region: img.bake.region,
    treeDir: '/tmp/t',
    scriptsDir: '/tmp/s',
    bootPlaceholder: '/tmp/p.cfg',
    manifestPath: '/tmp/m.json',
  });
}

describe('packer variables for an image', () => {
  it('takes distribution from bake: (copy regions without the build region, users, deprecation)', async () => {
    const v = await vars((b) => {
      b.amiRegions = ['us-east-1', 'eu-west-1'];
      b.amiUsers = ['123456789012'];
      b.deprecateAfterDays = 90;
      b.subnetId = 'subnet-0abc';
      b.vpcId = 'vpc-0abc';
    });
    expect(v).toMatchObject({
      ami_regions: ['eu-west-1'],
      ami_users: ['123456789012'],
      deprecate_after_days: 90,
      subnet_id: 'subnet-0abc',
      vpc_id: 'vpc-0abc',
      instance_type: 't3.small',
    });
    expect(v.rtpproxy_version).toBe('none'); // seed 000 has no RTPProxy
  });

  it('writes a var file Packer formats as canonical and that parses back to the same values', async () => {
    const v = await vars();
    const text = varFile(v);
    const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-vars-'));
    try {
      const file = path.join(dir, 'sipbake.pkrvars.hcl');
      await writeFile(file, text);
      const fmt = await execa('packer', ['fmt', '-check', file], { reject: false });
      expect(fmt.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const parsed = (await parse('sipbake.pkrvars.hcl', text)) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      image_name: 'twilio-relay',
      content_hash: 'a'.repeat(64),
      ami_regions: [],
      deprecate_after_days: 0,
    });
  });
});
