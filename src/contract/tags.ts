// The tag names sipbake writes and reads (one place): on AMIs (Packer writes them at the bake; build, roll,
// status and history read them) and on the Auto Scaling group (the roll's own record, so history and rollback
// need no local state).

export const AMI_TAG = {
  image: 'sipbake:image',
  contentHash: 'sipbake:content-hash',
  contentParts: 'sipbake:content-parts',
  kamailioVersion: 'sipbake:kamailio-version',
  rtpproxyVersion: 'sipbake:rtpproxy-version',
  gitCommit: 'sipbake:git-commit',
  builtAt: 'sipbake:built-at',
  sourceAmi: 'sipbake:source-ami',
} as const;

export const ASG_TAG = {
  /** `version N ami-…`: what the group last ran well. */
  lastKnownGood: 'sipbake:last-known-good',
  /** What the last roll started. */
  lastRoll: 'sipbake:last-roll',
  /** One roll at a time: owner, start, expiry, token. */
  lease: 'sipbake:lease',
  /** The gate's count of replaced new-AMI instances, across interrupts and re-runs. */
  gate: 'sipbake:gate',
  /** `sipbake:rejected:<ami>`: an AMI the gate rejected, with time and reason. */
  rejectedPrefix: 'sipbake:rejected:',
} as const;

/** On Elastic IPs: the media pool (media.address.pool) the boot agent claims from; sipbake infra creates them with it. */
export const MEDIA_POOL_TAG = 'sipbake:media-pool';
