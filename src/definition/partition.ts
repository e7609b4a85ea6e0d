// The AWS partition a region belongs to, for every ARN sipbake writes or checks. Regions and
// partitions: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html ("partition":
// aws, aws-cn for China, aws-us-gov for GovCloud (US)); the ISO partitions are listed for completeness.

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b';

export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

/** The parts of an ARN, or undefined when it is not one. */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } | undefined {
  const [, partition, service, region, account, resource] = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/.exec(arn) ?? [];
  if (partition === undefined || service === undefined || region === undefined || account === undefined || resource === undefined) return undefined;
  return { partition, service, region, account, resource };
}
