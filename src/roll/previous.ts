// Which AMI "--previous" means (pure), from the instances' truth as well as the launch template: the AMI the
// active roll started from; else the AMI the live version was rolled from; else last-known-good when the live
// version or any instance in service runs something else; else the newest AMI built before the live one.
import { inService } from './fleet.js';
import { builtAt } from './images.js';
import { parseLkg, TAG_LAST_KNOWN_GOOD, type AmiInfo, type Observed } from './types.js';

export function choosePrevious(obs: Observed, amis: AmiInfo[], image: string): { ami: string; why: string } | undefined {
  const live = obs.current?.imageId;
  const active = obs.active?.desired?.marker;
  if (active && active.image === image && active.fromAmi.startsWith('ami-'))
    return { ami: active.fromAmi, why: `the AMI the active roll to ${active.ami} started from` };
  const { current } = obs;
  const marker = current?.marker;
  if (current && marker && marker.image === image && marker.fromAmi !== live && marker.fromAmi.startsWith('ami-'))
    return {
      ami: marker.fromAmi,
      why: `launch template version ${current.version} was rolled from version ${marker.fromVersion}`,
    };
  const lkg = parseLkg(obs.group?.tags[TAG_LAST_KNOWN_GOOD]);
  const strays = inService(obs.fleet ?? []).filter((i) => i.ami !== undefined && i.ami !== lkg?.ami);
  if (lkg && lkg.ami !== live) return { ami: lkg.ami, why: `last-known-good (version ${lkg.version})` };
  if (lkg && strays.length > 0)
    return {
      ami: lkg.ami,
      why: `last-known-good (version ${lkg.version}); ${strays.length} instance(s) in service run another AMI (${[...new Set(strays.map((i) => i.ami))].join(', ')})`,
    };
  const liveAmi = amis.find((a) => a.imageId === live);
  const older = amis.filter((a) => a.imageId !== live && a.state === 'available' && (!liveAmi || builtAt(a) < builtAt(liveAmi)));
  return older[0] ? { ami: older[0].imageId, why: 'the newest AMI of the image built before the live one' } : undefined;
}
