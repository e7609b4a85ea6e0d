// Synthesizes a SipbakeFleet into one CloudFormation template, offline: no account, no lookups, no bootstrap
// (users without the CDK deploy it with `aws cloudformation deploy`).
import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SipbakeFleet, type SipbakeFleetProps } from './fleet.js';

export function fleetStack(app: App, props: SipbakeFleetProps): Stack {
  const stack = new Stack(app, `sipbake-${props.image.name}`, {
    env: { region: props.image.deploy?.region ?? props.image.bake.region },
    description: `sipbake ${props.image.name}: the NLB, target group, launch template, Auto Scaling group and roles sipbake rolls`,
    analyticsReporting: false,
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
  });
  new SipbakeFleet(stack, 'Fleet', props);
  return stack;
}

/** The template as a JSON object; the cloud assembly goes to a temporary directory that is removed. */
export function synthesizeFleet(props: SipbakeFleetProps): Record<string, unknown> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'sipbake-infra-'));
  try {
    const app = new App({ outdir });
    const stack = fleetStack(app, props);
    return app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
