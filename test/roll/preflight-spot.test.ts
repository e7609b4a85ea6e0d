// Preflight warns (does not refuse) when the group's launch template asks for Spot capacity.
import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';

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
