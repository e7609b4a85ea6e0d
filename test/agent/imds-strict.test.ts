// The IMDS client against the IMDSv2 fake (the product's wire, test/fakes/imds.ts): a slow IMDS is waited for (each
// retry doubles the request timeout), and an address item that is not an IPv4 is refused with a clear error.
import { afterEach, describe, expect, it } from 'vitest';
import { Imds, META } from '../../src/agent/imds.js';
import { startImdsFake, type ImdsFake, type ImdsFakeOptions } from '../fakes/imds.js';

let fake: ImdsFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The IMDSv2 fake on 127.0.0.1, every answer (token PUT included) after `delayMs`. */
async function imds(o: ImdsFakeOptions, delayMs = 0): Promise<string> {
  fake = await startImdsFake(o);
  fake.delayMs = delayMs;
  return fake.endpoint;
}

describe('IMDS client', () => {
  it('an IMDS slower than the first request timeout still answers: the timeout doubles at each retry', async () => {
    const endpoint = await imds({ localIpv4: '10.0.1.23' }, 300);
    const c = new Imds({ endpoint, requestTimeoutMs: 100, budgetMs: 5000 });
    expect(await c.getIpv4(META.localIpv4)).toBe('10.0.1.23');
  });

  it.each(['10.0.1.999', '10.0.1.23 10.0.1.24', '10.0.1.23/24', '<html>proxy</html>'])('a malformed local-ipv4 (%j) is refused, naming it', async (bad) => {
    const endpoint = await imds({ localIpv4: bad });
    const c = new Imds({ endpoint, requestTimeoutMs: 500, budgetMs: 2000 });
    await expect(c.getIpv4(META.localIpv4)).rejects.toThrow(/meta-data\/local-ipv4 is ".*", not an IPv4 address/);
  });

  it('a missing public-ipv4 is undefined, not an error', async () => {
    const endpoint = await imds({});
    expect(await new Imds({ endpoint, budgetMs: 2000 }).findIpv4(META.publicIpv4)).toBeUndefined();
  });
});
