// An instance's IMDSv2 during a rehearsal, as the region model sees it (both launchers serve it the same way).
import path from 'node:path';
import { instanceMetadata, serveImdsItems } from '../region/wire/imds.js';
import type { Fleet } from './fleet.js';
import type { RehearsalImage } from './image.js';
import { instanceMac } from './boot.js';
import { ADDR, instanceEip, instanceIp } from './net-plan.js';
import type { Rig } from './rig.js';

/** Instance k's IMDSv2 on a unix socket (the helper forwards 127.0.0.1:1338 to it): the model's view of it. */
export async function serveInstanceImds(rig: Rig, f: Fleet, k: number, id: string, img: RehearsalImage): Promise<string> {
  const imdsSock = path.join(rig.dir, `imds-${k}.sock`);
  rig.servers.push(
    await serveImdsItems(
      () =>
        instanceMetadata({
          instanceId: id,
          privateIp: instanceIp(k),
          // A private subnet: no public IPv4 of its own, unless the image advertises it (then the NLB's EIP).
          ...(img.advertise === 'instance-public-ipv4' ? { publicIp: ADDR.nlbEip } : {}),
          // r3-media: media on the instance's own address (media.address instance-public-ipv4): its media Elastic IP.
          ...(img.mediaOwnAddress ? { publicIp: instanceEip(k) } : {}),
          mac: instanceMac(k),
          vpcCidr: ADDR.subnet,
          region: 'us-east-1',
          targetLifecycleState: f.model.region.instances.get(id)?.targetLifecycleState ?? 'InService',
        }),
      { socketPath: imdsSock },
    ),
  );
  return imdsSock;
}
