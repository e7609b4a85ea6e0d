// Preflight warns (does not refuse) when the group's launch template asks for Spot capacity.
import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';
import type { PreflightInput } from '../../src/roll/finding.js';
import { instanceProfile } from '../../src/roll/preflight-spot.js';

describe('preflight: Spot options in the launch template', () => {
  it.each([
    ['spot', true],
    [undefined, false],
  ])('MarketType %s: warned %s, and the roll goes on', async (market, warned) => {
    const h = harness();
    try {
      if (market) h.world.lt.versions[0]!.data.InstanceMarketOptions = { MarketType: market };
      const r = await run(h);
      expect(r.exitCode, r.reporter.text()).toBe(0);
      const text = r.reporter.text();
      if (warned) expect(text).toMatch(/launches Spot Instances: on an interruption notice EC2 takes the instance two minutes later/);
      else expect(text).not.toMatch(/Spot/);
    } finally {
      h.restore();
    }
  });
});

describe('preflight: the instance profile the launch template passes', () => {
  it('names the profile and the --instance-role to print the roll policy with', () => {
    const current = { ltId: 'lt-0123', version: 3, instanceProfile: 'arn:aws:iam::123456789012:instance-profile/sipbake-instance' };
    const f = instanceProfile({ obs: { current }, deploy: { asgName: 'kamailio-lb-asg' } } as unknown as PreflightInput);
    expect(f?.message).toMatch(
      /passes instance profile sipbake-instance: the roll role needs iam:PassRole for its role only .*--launch-template lt-0123 --instance-role ROLE/,
    );
    expect(instanceProfile({ obs: { current: { ltId: 'lt-0123', version: 3 } }, deploy: {} } as unknown as PreflightInput)).toBeUndefined();
  });
});
