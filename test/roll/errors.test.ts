import { describe, expect, it } from 'vitest';
import { clientConfig, createAwsClients, destroyAwsClients } from '../../src/aws/clients.js';
import { mapAwsError } from '../../src/aws/errors.js';
import { awsError } from '../fakes/aws/index.js';

describe('AWS failures mapped to sentences with a fix', () => {
  it.each([
    ['InstanceRefreshInProgressFault', /already in progress/, /cancel-instance-refresh/],
    ['IrreversibleInstanceRefreshFault', /cannot roll this instance refresh back/, /--previous/],
    ['ActiveInstanceRefreshNotFoundFault', /no active instance refresh/, /status/],
    ['ThrottlingException', /kept throttling/, /resumes/],
    ['ExpiredToken', /expired/, /sso login/],
    ['AccessDenied', /denied/, /sipbake iam roll/],
    ['InvalidAMIID.NotFound', /unknown to EC2/, /history/],
  ])('%s', (name, message, fix) => {
    const e = mapAwsError(awsError(name, 'boom'), 'starting a refresh');
    expect(e?.message).toMatch(message);
    expect(e?.message).toContain('starting a refresh');
    expect(e?.fix).toMatch(fix);
  });

  it('leaves unknown errors alone', () => {
    expect(mapAwsError(awsError('SomethingNew', 'x'), 'w')).toBeUndefined();
  });
});

describe('clients', () => {
  it('use adaptive retry and the region asked for', async () => {
    expect(clientConfig({ region: 'eu-west-1', profile: 'ops' })).toMatchObject({
      retryMode: 'adaptive',
      region: 'eu-west-1',
      profile: 'ops',
    });
    const c = createAwsClients({ region: 'eu-west-1' });
    expect(await c.autoScaling.config.region()).toBe('eu-west-1');
    expect(((await c.ec2.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
    destroyAwsClients(c);
  });
});

describe('real clock and renderer choice', () => {
  it('sleep rejects with the signal reason, so Ctrl-C exits 130 and not as an internal error', async () => {
    const { realClock } = await import('../../src/aws/clock.js');
    const { AbortError } = await import('../../src/core/errors.js');
    const ac = new AbortController();
    const p = realClock.sleep(60_000, ac.signal);
    ac.abort(new AbortError('interrupted'));
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('picks silent for --json, simple without a TTY or in CI, default on a terminal', async () => {
    const { rendererFor } = await import('../../src/cli/aws-support.js');
    expect(rendererFor(true, {}, true)).toBe('silent');
    expect(rendererFor(false, {}, false)).toBe('simple');
    expect(rendererFor(false, { CI: 'true' }, true)).toBe('simple');
    expect(rendererFor(false, {}, true)).toBe('default');
  });
});
