// What would make a bake fail after the build instance is up, found before anything is launched (pure).
// `build` and `build --plan` run the same checks: the plan never promises a bake that `build` would refuse.
import type { ImageDefinition } from '../definition/schema.js';
import { pinProblems, type Pins } from './pins.js';

export interface BakeProblem {
  /** Where: a pins.env key or an image definition field. */
  where: string;
  problem: string;
  fix: string;
}

/**
 * The template sets encrypt_boot without a kms_key_id, so every AMI is encrypted with the AWS managed key
 * (alias/aws/ebs), and AWS refuses to share such an AMI ("Share an AMI with specific AWS accounts": you can't
 * share an AMI whose volumes are encrypted with an AWS managed key). Packer would fail at ModifyImageAttribute,
 * after the whole compile and the copies.
 */
function sharingProblems(image: ImageDefinition): BakeProblem[] {
  // bake.kmsKeyId: a customer managed key can be shared (its key policy must allow the accounts).
  if (image.bake.amiUsers.length === 0 || image.bake.kmsKeyId) return [];
  return [
    {
      where: `images/${image.name}.yaml bake.amiUsers`,
      problem: `AMIs are encrypted with the AWS managed EBS key, and AWS refuses to share those with ${image.bake.amiUsers.join(', ')}`,
      fix: 'set bake.kmsKeyId to a customer managed KMS key whose key policy lets those accounts use it, or remove bake.amiUsers',
    },
  ];
}

export function bakeProblems(image: ImageDefinition, pins: Pins): BakeProblem[] {
  const fromPins = pinProblems(pins, {
    architecture: image.bake.architecture,
    rtpproxy: image.media.rtpproxy.enabled,
  }).map((p) => ({
    where: `scripts/pins.env ${p.key}`,
    problem: p.problem,
    fix: p.fix,
  }));
  return [...sharingProblems(image), ...fromPins];
}
