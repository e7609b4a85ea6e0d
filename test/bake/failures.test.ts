import { describe, expect, it } from 'vitest';
import { KNOWN_FAILURES, mapFailure } from '../../src/bake/failures.js';
import { parseArtifactId, parseLine, stageOf, uiText } from '../../src/bake/machine-readable.js';

// Real-world shapes of Packer/AWS failure output, one per known failure.
const cases: [string, string][] = [
  ['bake-script', '    amazon-ebs.sipbake: ==> sipbake [10-sources] error: KAMAILIO: sha256 of the downloaded tarball does not match the pin'],
  ['expired-credentials', 'Error: error validating regions: ExpiredToken: The security token included in the request is expired'],
  ['no-credentials', 'Error: NoCredentialProviders: no valid providers in chain. Deprecated.'],
  ['ami-name-taken', "Error: Error: AMI Name: 'sipbake-twilio-relay-abc-20260101' is used by an existing AMI: ami-0123"],
  ['subnet-without-route', '==> amazon-ebs.sipbake: Timeout waiting for SSH.'],
  ['subnet-not-found', "Error launching source instance: InvalidSubnetID.NotFound: The subnet ID 'subnet-0abc' does not exist"],
  ['no-default-vpc', 'Error: VPCIdNotSpecified: No default VPC for this user'],
  ['base-ami-not-found', 'Error: No AMI was found matching filters: {...}'],
  ['unauthorized', 'UnauthorizedOperation: You are not authorized to perform this operation.'],
  ['capacity', 'Error launching source instance: InsufficientInstanceCapacity: We currently do not have sufficient c6i.large capacity'],
  [
    'packer-too-old',
    'Usage: packer [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n    build           build image(s) from template\n    hcl2_upgrade    transform a JSON template into an HCL2 configuration',
  ],
  ['plugin-missing', 'Error: Unknown source type amazon-ebs'],
];

describe('known Packer/AWS failures', () => {
  it.each(cases)('%s is recognised and says what to do', (id, output) => {
    const m = mapFailure(`some earlier line\n${output}\nmore lines`);
    expect(m?.id).toBe(id);
    expect(m!.message.length).toBeGreaterThan(10);
    expect(m!.fix.length).toBeGreaterThan(10);
  });

  it('every entry in the table has a case here', () => {
    expect(KNOWN_FAILURES.map((f) => f.id).sort()).toEqual(cases.map(([id]) => id).sort());
  });

  it('the failing bake script is named in the message', () => {
    expect(mapFailure(cases[0]![1])!.message).toBe('bake script 10-sources.sh failed: KAMAILIO: sha256 of the downloaded tarball does not match the pin');
  });

  it('unknown output maps to nothing (shown raw with its last lines)', () => {
    expect(mapFailure('panic: runtime error')).toBeUndefined();
  });
});

describe('machine-readable output', () => {
  it('parses a ui line and unescapes commas and newlines', () => {
    const l = parseLine('1700000000,,ui,say,==> amazon-ebs.sipbake: a%!(PACKER_COMMA) b\\nc')!;
    expect(l).toMatchObject({ timestamp: 1700000000, target: '', type: 'ui' });
    expect(uiText(l)).toBe('==> amazon-ebs.sipbake: a, b\nc');
  });

  it('ignores lines that are not machine-readable', () => {
    expect(parseLine('plain text')).toBeUndefined();
  });

  it.each([
    ['==> amazon-ebs.sipbake: Launching a source AWS instance...', 'launching the build instance'],
    ['==> amazon-ebs.sipbake: Waiting for SSH to become available...', 'waiting for SSH'],
    ['    amazon-ebs.sipbake: ==> sipbake [20-kamailio] make all (-j2)', 'running 20-kamailio'],
    ['==> amazon-ebs.sipbake: Creating AMI sipbake-x from instance i-1', 'creating the AMI'],
    ['==> amazon-ebs.sipbake: Copying/Encrypting AMI (ami-1) to other regions...', 'copying to other regions'],
    ['==> amazon-ebs.sipbake: Running post-processor: manifest', 'writing the manifest'],
    ['something else', undefined],
  ])('stage of %s', (text, stage) => expect(stageOf(text)).toBe(stage));

  it('reads the AMI per region from an artifact id', () => {
    expect(parseArtifactId('us-east-1:ami-1,eu-west-1:ami-2')).toEqual({ 'us-east-1': 'ami-1', 'eu-west-1': 'ami-2' });
  });
});
