import { z } from 'zod';

// Owned by the bake work (issue 5). Where and how the golden AMI is built and shared.
export const bakeSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1')
      .default('us-east-1'),
    instanceType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as c6i.large')
      .default('c6i.large'),
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
    subnetId: z
      .string()
      .regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id such as subnet-0abc123')
      .optional(),
    vpcId: z
      .string()
      .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id such as vpc-0abc123')
      .optional(),
    amiRegions: z
      .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/))
      .default([])
      .describe('Extra regions the AMI is copied to'),
    amiUsers: z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id')).default([]),
    kmsKeyId: z
      .string()
      .regex(
        /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-f-]{32,36}|alias\/[A-Za-z0-9/_-]+)$/,
        'must be a KMS key id, key ARN or alias (alias/NAME)',
      )
      .optional()
      .describe('Customer managed KMS key for the AMI (encryption, copies, sharing). With amiRegions use an alias present in every region'),
    deprecateAfterDays: z.number().int().min(1).max(3650).optional().describe('Sets deprecate_at this many days after the build'),
  })
  .prefault({});
