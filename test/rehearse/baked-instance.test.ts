// rehearse --baked (src/rehearse/baked-instance.ts): the booted guest's agents reach the same endpoints as the
// process launcher's (fleet.ts launch), through a systemd drop-in instead of the process's environment.
import { describe, expect, it } from 'vitest';
import { agentEnv } from '../../src/rehearse/boot.js';
import { endpointsDropIn } from '../../src/rehearse/baked-instance.js';

const environment = (dropIn: string): string[] =>
  dropIn
    .split('\n')
    .filter((l) => l.startsWith('Environment='))
    .map((l) => l.slice('Environment='.length));

describe("the booted instance's agent environment", () => {
  it("is the process launcher's, less SIPBAKE_ROOT, plus the Auto Scaling and EC2 endpoints", () => {
    const env = environment(endpointsDropIn());
    const processes = agentEnv('/tree').slice(1); // after 'env'
    for (const e of processes.filter((x) => !x.startsWith('SIPBAKE_ROOT='))) expect(env).toContain(e);
    expect(env.some((e) => e.startsWith('SIPBAKE_ROOT='))).toBe(false);
    expect(env).toContain('SIPBAKE_IMDS_ENDPOINT=http://127.0.0.1:1338');
    expect(env).toContain('SIPBAKE_AUTOSCALING_ENDPOINT=http://127.0.0.1:1339');
    expect(env).toContain('SIPBAKE_EC2_ENDPOINT=http://127.0.0.1:1340');
    expect(env).toContain('SIPBAKE_ELBV2_ENDPOINT=http://127.0.0.1:1341');
    // Never the real AWS: the SDK's own IMDS lookup is off, the credentials are the rehearsal's.
    expect(env).toContain('AWS_EC2_METADATA_DISABLED=true');
  });

  it('is a [Service] drop-in', () => {
    expect(endpointsDropIn().startsWith('[Service]\n')).toBe(true);
  });
});
