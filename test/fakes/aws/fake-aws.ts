// The tests' face of the one AWS region model (src/region/): the same model, with the tests' IAM evaluator on by
// default, so every call a test makes is checked against the policy sipbake prints.
import { Region, type RegionOptions } from '../../../src/region/region.js';
import { FakeIam, type IamOptions } from './iam.js';

export { FAKE_EPOCH, linkRegions, type CallRecord } from '../../../src/region/region.js';

export interface FakeOptions extends Omit<RegionOptions, 'iam'> {
  /**
   * IAM evaluation of every call (see iam.ts). Default on: the roll role of twilio-relay (the seed world's image).
   * false turns it off.
   */
  iam?: IamOptions | false;
}

export class FakeAws extends Region {
  declare iam?: FakeIam;

  constructor(opts: FakeOptions = {}) {
    const { iam, ...rest } = opts;
    super(rest);
    if (iam !== false) this.iam = new FakeIam({ ...iam, account: this.opts.account });
  }
}
