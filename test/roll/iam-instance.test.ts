import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

const root = path.resolve(import.meta.dirname, '../..');

async function policy(...args: string[]) {
  const out = new RecordingReporter(true);
  const code = await main(['iam', 'instance', ...args, '--json', '--root', root], { reporter: out });
  return {
    code,
    policy: out.results[0] as {
      Statement: { Sid: string; Action: string[]; Resource: string | string[]; Condition?: object }[];
    },
  };
}

describe('sipbake iam instance', () => {
  it("scopes boot secrets to the image's own parameter and KMS to SSM", async () => {
    const { code, policy: p } = await policy('--image', 'recorder-lb', '--account', '123456789012');
    expect(code).toBe(0);
    const sids = p.Statement.map((s) => s.Sid);
    expect(sids).toEqual(['FindOwnGroupAndHook', 'DrainLifecycleHook', 'BootSecretsFromParameterStore', 'DecryptBootSecrets']);
    const ssm = p.Statement.find((s) => s.Sid === 'BootSecretsFromParameterStore')!;
    expect(ssm.Action).toEqual(['ssm:GetParameter']);
    expect(ssm.Resource).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/sipbake/recorder-lb/db-password']);
    expect(p.Statement.find((s) => s.Sid === 'DecryptBootSecrets')!.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' },
    });
  });

  it("lets the relay complete only its own group's lifecycle actions and read no secrets", async () => {
    const { policy: p } = await policy('--image', 'twilio-relay', '--account', '123456789012');
    expect(p.Statement.map((s) => s.Sid)).toEqual(['FindOwnGroupAndHook', 'DrainLifecycleHook']);
    expect(p.Statement[1]!.Resource).toBe('arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/kamailio-lb-asg');
    expect(p.Statement[1]!.Action).toEqual(['autoscaling:RecordLifecycleActionHeartbeat', 'autoscaling:CompleteLifecycleAction']);
  });
});
