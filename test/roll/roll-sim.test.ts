// The randomized roll simulation, small: a few seeded rolls (npm run sim:roll runs ≥ 1,000), and a negative control
// showing the invariant checker catches a planted bug. A failing seed prints fc's seed and path, which replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArb, simulate, type Scenario } from './sim/roll-sim.js';

describe('randomized roll simulation', () => {
  it('holds every invariant over seeded rolls with drawn faults', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        expect(await simulate(sc)).toEqual([]);
      }),
      { numRuns: 12, seed: 19 },
    );
  });

  it("AWS's Wait preference with a protected and a Standby instance: the refresh waits for them (an hour, then it fails); every invariant holds", async () => {
    // The other faults off: this case isolates the Wait preference (the property test above draws them all together).
    const none = { lag: false, throttle: false, transient: false, slowBoot: false, badAmi: false, scaleOut: false, alarm: false, interrupt: false };
    expect(await simulate({ desired: 3, interruptAfter: 10, faults: { ...none, protected: true, standby: true, waitHeld: true } })).toEqual([]);
  });

  it('negative control: a planted "succeeded" on a mixed fleet is caught', async () => {
    const sc: Scenario = {
      desired: 2,
      interruptAfter: 10,
      faults: {
        lag: false,
        throttle: false,
        transient: false,
        slowBoot: false,
        badAmi: false,
        scaleOut: true,
        alarm: false,
        interrupt: false,
        protected: false,
        standby: false,
        waitHeld: false,
      },
    };
    expect(await simulate(sc)).toEqual([]);
    const caught = await simulate(sc, (r) => {
      if (r.summary) r.summary.outcome = 'succeeded';
    });
    expect(caught.join()).toMatch(/"succeeded" while instances in service run another AMI/);
  });
});
