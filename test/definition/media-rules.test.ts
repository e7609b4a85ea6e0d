import { describe, expect, it } from 'vitest';
import { parseManifest, imageManifest } from '../../src/contract/image-manifest.js';
import { checkRules } from '../../src/definition/rules.js';
import { imageSchema } from '../../src/definition/schema.js';

// media.address (docs/media.md): the combinations that cannot work are refused with the field and a fix.
const image = (over: Record<string, unknown>) =>
  imageSchema.parse({
    name: 'img',
    listen: { udp: 5060 },
    relay: { destination: { domain: 'sip.example.com' } },
    advertise: { source: 'elastic-ip', elasticIp: '44.199.36.104' },
    ...over,
  });
const media = (address: Record<string, unknown>, enabled = true) => ({ media: { rtpproxy: { enabled }, address } });
const issues = (over: Record<string, unknown>) => checkRules(image(over)).map((i) => `${i.path.join('.')}: ${i.message} | ${i.fix}`);

describe('media.address rules', () => {
  it.each([
    ['signalling (the default)', {}],
    ['instance-public-ipv4 behind the NLB', media({ source: 'instance-public-ipv4' })],
    ['an Elastic IP pool behind the NLB', media({ source: 'elastic-ip-pool', pool: 'recorder-media' })],
  ])('accept %s', (_n, over) => {
    expect(issues(over)).toEqual([]);
  });

  it.each([
    [
      'an Elastic IP pool without media',
      media({ source: 'elastic-ip-pool', pool: 'p' }, false),
      /media\.address\.source: .*media\.rtpproxy\.enabled is false.*\| set media\.rtpproxy\.enabled: true/,
    ],
    ['an Elastic IP pool without a pool', media({ source: 'elastic-ip-pool' }), /media\.address\.source: elastic-ip-pool needs the pool.*sipbake:media-pool/],
    ['a pool with another source', media({ source: 'instance-public-ipv4', pool: 'p' }), /media\.address\.pool: is only used with source: elastic-ip-pool/],
    [
      'public IPv4 media while signalling is private (private subnets)',
      { ...media({ source: 'instance-public-ipv4' }), advertise: { source: 'private-ipv4' } },
      /needs signalling on the NLB's Elastic IP.*private subnets/,
    ],
    [
      'a pool address while signalling is the instance public IPv4 (the EIP would replace it)',
      { ...media({ source: 'elastic-ip-pool', pool: 'p' }), advertise: { source: 'instance-public-ipv4' } },
      /would replace that address under Kamailio/,
    ],
  ])('refuse %s', (_n, over, re) => {
    const got = issues(over);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(re);
  });

  it('travels through the image manifest to the agent', () => {
    const img = image(media({ source: 'elastic-ip-pool', pool: 'recorder-media' }));
    const m = parseManifest(JSON.stringify(imageManifest(img, [])), 'image.json');
    expect(m.mediaAddress).toEqual({ source: 'elastic-ip-pool', pool: 'recorder-media' });
    // A manifest from before media.address: media stays on the signalling address.
    expect(parseManifest(JSON.stringify({ name: 'old', rtpproxy: { enabled: true } }), 'image.json').mediaAddress).toEqual({ source: 'signalling' });
  });
});
