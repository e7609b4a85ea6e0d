// media.address (docs/media.md): where the instances run and what they get so RTP reaches each one directly.
// instance-public-ipv4 and elastic-ip-pool put the group in the public subnets with a public IPv4 at launch
// (boot must reach the EC2 API to claim a pool address; the claimed Elastic IP then replaces that address).
// elastic-ip-pool also gets one Elastic IP per instance the group may hold, tagged with the pool.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { MEDIA_POOL_TAG } from '../contract/tags.js';
import type { ImageDefinition } from '../definition/schema.js';

export interface MediaPlacement {
  /** Instances in the public subnets, with a public IPv4 at launch. */
  publicInstances: boolean;
  /** Elastic IPs to create for the pool (0: none). */
  poolSize: number;
  pool?: string;
}

/** Pure: what media.address asks of the stack. */
export function mediaPlacement(image: ImageDefinition, maxSize: number): MediaPlacement {
  const a = image.media.address;
  if (!image.media.rtpproxy.enabled || a.source === 'signalling') return { publicInstances: false, poolSize: 0 };
  if (a.source === 'instance-public-ipv4' || a.pool === undefined) return { publicInstances: true, poolSize: 0 };
  // One per instance the group may hold, with room for an instance refresh that launches replacements before it
  // terminates (maxHealthyPercentage above 100): both generations hold an address while the old one drains.
  const overlap = (image.deploy?.refresh.maxHealthyPercentage ?? 100) / 100;
  return { publicInstances: true, poolSize: Math.ceil(maxSize * overlap), pool: a.pool };
}

/** The pool's Elastic IPs, each tagged sipbake:media-pool=POOL. */
export function mediaPoolAddresses(scope: Construct, p: MediaPlacement): ec2.CfnEIP[] {
  const pool = p.pool;
  if (pool === undefined) return [];
  return Array.from(
    { length: p.poolSize },
    (_, i) => new ec2.CfnEIP(scope, `MediaPoolEip${i}`, { domain: 'vpc', tags: [{ key: MEDIA_POOL_TAG, value: pool }] }),
  );
}
