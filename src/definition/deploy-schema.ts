import { z } from 'zod';

// Owned by the roll work (issue 6). The Auto Scaling Group this image is rolled onto.
export const refreshSchema = z
  .strictObject({
    minHealthyPercentage: z.number().int().min(0).max(100).default(100),
    maxHealthyPercentage: z.number().int().min(100).max(200).default(200),
    instanceWarmup: z.number().int().min(0).default(120).describe('seconds'),
    checkpointPercentages: z
      .array(z.number().int().min(1).max(100))
      .optional()
      .refine((c) => c === undefined || c.length === 0 || c.at(-1) === 100, 'the last checkpoint must be 100')
      .refine((c) => c === undefined || c.every((v, i) => i === 0 || v > c[i - 1]!), 'checkpoints must increase'),
    checkpointDelay: z.number().int().min(0).default(300).describe('seconds'),
    bakeTime: z.number().int().min(0).default(300).describe('seconds the refresh waits after the last replacement before it is Successful'),
    skipMatching: z.boolean().default(true),
    autoRollback: z.boolean().default(true),
    alarms: z.array(z.string().min(1)).default([]).describe('CloudWatch alarm names; any in ALARM fails the roll'),
    scaleInProtectedInstances: z.enum(['Refresh', 'Ignore', 'Wait']).default('Ignore'),
    standbyInstances: z.enum(['Terminate', 'Ignore', 'Wait']).default('Ignore'),
  })
  .refine((r) => !(r.minHealthyPercentage === 100 && r.maxHealthyPercentage === 100), {
    message: 'minHealthyPercentage and maxHealthyPercentage cannot both be 100: the refresh could neither launch nor terminate',
    path: ['maxHealthyPercentage'],
  })
  .refine((r) => r.maxHealthyPercentage - r.minHealthyPercentage <= 100, {
    message: 'maxHealthyPercentage may be at most 100 above minHealthyPercentage (an AWS limit)',
    path: ['maxHealthyPercentage'],
  })
  .prefault({});

export const lifecycleHookSchema = z
  .strictObject({
    name: z.string().min(1).max(255).default('sipbake-drain').describe('Termination lifecycle hook the drain agent completes'),
    create: z.boolean().default(true).describe('Create the hook during roll when missing (false: only warn)'),
  })
  .prefault({});

export const deploySchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
  asgName: z.string().min(1),
  targetGroupArns: z.array(z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:/, 'must be a target group ARN')).min(1),
  healthyDeadlineSeconds: z.number().int().min(30).default(900).describe('A new instance must be healthy in every target group within this'),
  pollSeconds: z.number().int().min(1).default(15),
  maxReplacedInstances: z.number().int().min(1).default(2).describe('The gate fails once this many new-AMI instances went unhealthy or were replaced by Auto Scaling'),
  rollbackDeadlineSeconds: z.number().int().min(60).optional().describe('How long a rollback may take before sipbake stops waiting (default: twice the worst case of the roll plus healthyDeadlineSeconds)'),
  refresh: refreshSchema,
  lifecycleHook: lifecycleHookSchema,
});
export type DeployConfig = z.infer<typeof deploySchema>;
