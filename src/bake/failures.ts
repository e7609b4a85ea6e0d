// Known Packer/AWS failures, mapped to a sentence that says what went wrong and what to do.
// The table is tested case by case (test/bake/failures.test.ts).

export interface KnownFailure {
  id: string;
  pattern: RegExp;
  message: string | ((m: RegExpMatchArray) => string);
  fix: string;
}

export const KNOWN_FAILURES: KnownFailure[] = [
  {
    id: 'bake-script',
    pattern: /==> sipbake \[([0-9a-z-]+)\] error: ([^\n]+)/,
    message: (m) => `bake script ${m[1]}.sh failed: ${m[2]}`,
    fix: 'see the lines above; rehearse locally with the live test test/bake/rehearsal.live.test.ts',
  },
  {
    id: 'expired-credentials',
    pattern: /ExpiredToken|RequestExpired|security token included in the request is expired/i,
    message: 'the AWS credentials have expired',
    fix: 'refresh them (e.g. `aws sso login --profile NAME`) and run the build again',
  },
  {
    id: 'no-credentials',
    pattern: /NoCredentialProviders|no valid credential sources|Unable to locate credentials|failed to refresh cached credentials/i,
    message: 'Packer found no AWS credentials',
    fix: 'pass --profile NAME, or set AWS_PROFILE / AWS_ACCESS_KEY_ID, and run again',
  },
  {
    id: 'ami-name-taken',
    pattern: /InvalidAMIName\.Duplicate|AMI Name: .* is used by an existing AMI|name .* is already in use by AMI/i,
    message: 'an AMI with this name already exists in the account',
    fix: 'names carry the content hash and a timestamp; deregister the stray AMI, or wait a second and run again',
  },
  {
    id: 'subnet-without-route',
    pattern: /Timeout waiting for SSH|timeout while waiting for SSH|dial tcp [0-9.]+:22: (?:i\/o timeout|connect: connection refused)/i,
    message: 'Packer could not reach the build instance over SSH: the subnet has no route to it from here',
    fix: 'use a subnet with a route to an internet gateway and a public IP, or run the build from inside the VPC (bake.subnetId/vpcId)',
  },
  {
    id: 'subnet-not-found',
    pattern: /InvalidSubnetID\.NotFound|The subnet ID '[^']+' does not exist/i,
    message: 'bake.subnetId does not exist in the build region',
    fix: 'check bake.subnetId and bake.region in the image definition',
  },
  {
    id: 'no-default-vpc',
    pattern: /VPCIdNotSpecified|No default VPC for this user|DefaultVpcNotFound/i,
    message: 'the build region has no default VPC',
    fix: 'set bake.subnetId and bake.vpcId in the image definition',
  },
  {
    id: 'base-ami-not-found',
    pattern: /No AMI was found matching filters|Error querying AMI: .*no results/i,
    message: 'no Debian 12 base AMI matched the filter in this region',
    fix: 'check bake.region and bake.architecture; Debian publishes debian-12-* from account 136693071363',
  },
  {
    id: 'unauthorized',
    pattern: /UnauthorizedOperation|AccessDenied|not authorized to perform/i,
    message: 'the AWS identity is not allowed to do what Packer needs',
    fix: 'grant the Packer permissions for amazon-ebs (ec2:RunInstances, CreateImage, CopyImage, CreateTags, ...) to this identity',
  },
  {
    id: 'capacity',
    pattern: /InsufficientInstanceCapacity|Unsupported: .*instance type|InstanceLimitExceeded|VcpuLimitExceeded/i,
    message: 'EC2 could not launch the build instance type here',
    fix: 'pick another bake.instanceType, or another subnet/availability zone, or raise the vCPU quota',
  },
  {
    id: 'packer-too-old',
    pattern: /Available commands are:[\s\S]*hcl2_upgrade/,
    message: 'this Packer has no `packer init` (it is older than 1.7; Debian ships 1.6.6)',
    fix: 'install Packer >= 1.8 from https://developer.hashicorp.com/packer/install and put it first on PATH',
  },
  {
    id: 'plugin-missing',
    pattern: /Unknown source type "?amazon-ebs"?|Missing plugins|plugin .* not installed|Failed to initialize build/i,
    message: 'Packer does not have the amazon plugin',
    fix: "use Packer >= 1.8 (`packer init` installs the plugin from packer-plugins.pkr.hcl); Debian's packer 1.6.6 cannot build this template",
  },
];

export interface MappedFailure {
  id: string;
  message: string;
  fix: string;
}

/** The first known failure found in Packer's output, or undefined. Order in the table is priority. */
export function mapFailure(output: string): MappedFailure | undefined {
  for (const f of KNOWN_FAILURES) {
    const m = output.match(f.pattern);
    if (m) return { id: f.id, message: typeof f.message === 'string' ? f.message : f.message(m), fix: f.fix };
  }
  return undefined;
}
