import { z } from 'zod';

// Owned by the roll work (issue 6). The Auto Scaling Group this image is rolled onto.
// Numeric limits are AWS's own, so `validate` refuses what StartInstanceRefresh would refuse after
// sipbake has already created a launch template version:
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html (BakeTime and
// CheckpointDelay 0-172800, Min/MaxHealthyPercentage 0-100/100-200, CheckpointPercentages 1-100) and
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AlarmSpecification.html (up to 10 alarms,
// names 1-255 characters).
const AWS_LIMITS = { refreshDelayMax: 172_800, alarmsMax: 10, nameMax: 255 } as const;

/** What is wrong with a list of checkpoint percentages, in words, with the list that would work. */
function checkpointProblem(c: readonly number[]): { index: number; message: string; fix: string } | undefined {
  const last = c.at(-1);
  if (last === undefined) return undefined; // no checkpoints: nothing to check
  const rising = c.findIndex((v, i) => {
    const prev = c[i - 1];
    return prev !== undefined && v <= prev;
  });
  if (rising > 0)
    return {
      index: rising,
      message: `must be greater than the checkpoint before it (${c[rising - 1]}): AWS requires checkpoints in ascending order`,
      fix: `sort them and drop repeats, e.g. [${[...new Set(c)].sort((a, b) => a - b).join(', ')}]`,
    };
  if (last !== 100) {
    const fixed = [...c.slice(0, -1), ...(last >= 90 ? [] : [last]), 100];
    return {
      index: c.length - 1,
      message: `the last checkpoint must be 100 (AWS requires it; ${last} would leave ${100 - last}% of the group on the old image and the refresh never finishes)`,
      fix: `end the list at 100, e.g. [${fixed.join(', ')}]`,
    };
  }
  return undefined;
}

const refreshSchema = z
  .strictObject({
    minHealthyPercentage: z.number().int().min(0).max(100).default(100),
    maxHealthyPercentage: z.number().int().min(100).max(200).default(200),
    instanceWarmup: z.number().int().min(0).default(120).describe('seconds'),
    checkpointPercentages: z
      .array(z.number().int().min(1).max(100))
      .optional()
      .superRefine((c, ctx) => {
        const p = c && checkpointProblem(c);
        if (p)
          ctx.addIssue({
            code: 'custom',
            path: [p.index],
            message: p.message,
            params: { fix: p.fix },
            input: c[p.index],
          });
      })
      .describe('Percentages of the group replaced at which the refresh pauses for checkpointDelay; ascending, ending at 100'),
    checkpointDelay: z.number().int().min(0).max(AWS_LIMITS.refreshDelayMax).default(300).describe('seconds (AWS: at most 172800, two days)'),
    bakeTime: z
      .number()
      .int()
      .min(0)
      .max(AWS_LIMITS.refreshDelayMax)
      .default(300)
      .describe('seconds the refresh waits after the last replacement before it is Successful (AWS: at most 172800)'),
    skipMatching: z.boolean().default(true),
    autoRollback: z.boolean().default(true),
    alarms: z
      .array(
        z
          .string()
          .min(1)
          .max(AWS_LIMITS.nameMax)
          // eslint-disable-next-line no-control-regex -- AWS names may not hold control characters
          .regex(/^[^\x00-\x1f\x7f]+$/, 'must be a CloudWatch alarm name without control characters'),
      )
      .max(AWS_LIMITS.alarmsMax)
      .default([])
      .describe('CloudWatch alarm names (AWS: at most 10); any in ALARM fails the roll'),
    scaleInProtectedInstances: z.enum(['Refresh', 'Ignore', 'Wait']).default('Ignore'),
    standbyInstances: z.enum(['Terminate', 'Ignore', 'Wait']).default('Ignore'),
  })
  .refine((r) => !(r.minHealthyPercentage === 100 && r.maxHealthyPercentage === 100), {
    error: 'minHealthyPercentage and maxHealthyPercentage cannot both be 100: the refresh could neither launch nor terminate',
    path: ['maxHealthyPercentage'],
  })
  .refine((r) => r.maxHealthyPercentage - r.minHealthyPercentage <= 100, {
    error: 'maxHealthyPercentage may be at most 100 above minHealthyPercentage (an AWS limit)',
    path: ['maxHealthyPercentage'],
  })
  .prefault({});

/** The termination lifecycle hook's name when the definition names none (deploy.lifecycleHook.name). */
export const DEFAULT_LIFECYCLE_HOOK_NAME = 'sipbake-drain';

const lifecycleHookSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9\-_/]{1,255}$/, 'must be 1-255 letters, digits, -, _ or / (PutLifecycleHook LifecycleHookName)')
      .default(DEFAULT_LIFECYCLE_HOOK_NAME)
      .describe('Termination lifecycle hook the roll creates or checks and the drain agent completes (without a deploy section: sipbake-drain)'),
    create: z.boolean().default(true).describe('Create the hook during roll when missing (false: only warn)'),
  })
  .prefault({});

export const deploySchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
  // CreateAutoScalingGroup: AutoScalingGroupName 1-255, no control characters.
  asgName: z
    .string()
    .min(1)
    .max(AWS_LIMITS.nameMax)
    // eslint-disable-next-line no-control-regex -- AWS names may not hold control characters
    .regex(/^[^\x00-\x1f\x7f]+$/, 'must be an Auto Scaling group name without control characters'),
  targetGroupArns: z
    .array(
      z
        .string()
        .max(511)
        .regex(
          /^arn:aws(-[a-z-]+)?:elasticloadbalancing:[a-z0-9-]+:\d+:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/, // region, account and partition: rules.ts
          'must be a target group ARN such as arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/NAME/0123456789abcdef',
        ),
    )
    .min(1),
  healthyDeadlineSeconds: z.number().int().min(30).default(900).describe('A new instance must be healthy in every target group within this'),
  pollSeconds: z.number().int().min(1).default(15),
  maxReplacedInstances: z
    .number()
    .int()
    .min(1)
    .default(2)
    .describe('The gate fails once this many new-AMI instances went unhealthy or were replaced by Auto Scaling'),
  rollbackDeadlineSeconds: z
    .number()
    .int()
    .min(60)
    .optional()
    .describe('How long a rollback may take before sipbake stops waiting (default: twice the worst case of the roll plus healthyDeadlineSeconds)'),
  refresh: refreshSchema,
  lifecycleHook: lifecycleHookSchema,
});
export type DeployConfig = z.infer<typeof deploySchema>;
