// scripts/pins.env, read as data (pure parse): versions for the AMI tags, and the checks that must pass
// before a build instance is launched at all.
export type Pins = Record<string, string>;

export function parsePins(text: string): Pins {
  const out: Pins = {};
  for (const line of text.split('\n')) {
    const [, key, value] = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()) ?? [];
    if (key !== undefined && value !== undefined) out[key] = value.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface PinProblem {
  key: string;
  problem: string;
  fix: string;
}

/** Problems that would make the bake fail on the instance; found here, before anything is launched. */
export function pinProblems(p: Pins, opts: { architecture: 'x86_64' | 'arm64'; rtpproxy: boolean }): PinProblem[] {
  const out: PinProblem[] = [];
  const check = (name: string, component: string) => {
    const kind = p[`${name}_SOURCE`];
    if (kind === 'git') {
      if (!p[`${name}_GIT_URL`] || !p[`${name}_GIT_TAG`])
        out.push({
          key: `${name}_GIT_URL/${name}_GIT_TAG`,
          problem: 'empty',
          fix: `npx sipbake pin ${component} VERSION`,
        });
      if (!/^[0-9a-f]{40}$/.test(p[`${name}_GIT_COMMIT`] ?? ''))
        out.push({
          key: `${name}_GIT_COMMIT`,
          problem: 'not a 40-character commit',
          fix: `npx sipbake pin ${component} VERSION`,
        });
    } else if (kind === 'tarball') {
      if (!p[`${name}_TARBALL_URL`])
        out.push({
          key: `${name}_TARBALL_URL`,
          problem: 'empty',
          fix: `npx sipbake pin ${component} VERSION --tarball`,
        });
      if (!/^[0-9a-f]{64}$/.test(p[`${name}_TARBALL_SHA256`] ?? ''))
        out.push({
          key: `${name}_TARBALL_SHA256`,
          problem: 'not a sha256',
          fix: `npx sipbake pin ${component} VERSION --tarball`,
        });
    } else
      out.push({
        key: `${name}_SOURCE`,
        problem: `must be git or tarball (got ${kind ?? 'nothing'})`,
        fix: 'edit scripts/pins.env',
      });
  };
  check('KAMAILIO', 'kamailio');
  if (opts.rtpproxy) check('RTPPROXY', 'rtpproxy');
  const arch = opts.architecture === 'arm64' ? 'ARM64' : 'X86_64';
  // The SSM agent is verified by its signature (scripts/lib/verify-signature.sh); a sha256 pin is optional.
  if (!p[`SSM_AGENT_${arch}_URL`])
    out.push({
      key: `SSM_AGENT_${arch}_URL`,
      problem: 'the SSM agent (Session Manager) has no download URL',
      fix: "set it to AWS's bucket, e.g. https://s3.amazonaws.com/ec2-downloads-windows/SSMAgent/latest/debian_amd64/amazon-ssm-agent.deb",
    });
  if (!/^[0-9A-Fa-f]{40}$/.test((p.SSM_AGENT_KEY_FINGERPRINT ?? '').replace(/ /g, '')))
    out.push({
      key: 'SSM_AGENT_KEY_FINGERPRINT',
      problem: 'not a 40-hex-digit key fingerprint',
      fix: 'set it to the fingerprint AWS publishes on "Verify the signature of SSM Agent"',
    });
  const sha = p[`SSM_AGENT_${arch}_SHA256`];
  if (sha && !/^[0-9a-f]{64}$/.test(sha))
    out.push({
      key: `SSM_AGENT_${arch}_SHA256`,
      problem: 'not a sha256 (leave it empty to rely on the signature)',
      fix: 'npx sipbake pin ssm-agent VERSION',
    });
  return out;
}
