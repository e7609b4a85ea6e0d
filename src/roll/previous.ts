// Which AMI "--previous" means (pure): the AMI the live launch template version was rolled from, else the
// last-known-good AMI when it is not the live one, else the newest AMI of the image built before the live one.
import { builtAt } from './images.js';
import { ACTIVE_STATUSES, parseLkg, parseMarker, TAG_LAST_KNOWN_GOOD, type AmiInfo, type Observed } from './types.js';

export function choosePrevious(obs: Observed, amis: AmiInfo[], image: string): { ami: string; why: string } | undefined {
  const live = obs.current?.imageId;
  const active = parseMarker(obs.activeDesired?.description);
  if (active && active.image === image && obs.refreshes.some((r) => ACTIVE_STATUSES.includes(r.status)) && active.fromAmi.startsWith('ami-'))
    return { ami: active.fromAmi, why: `the AMI the active roll to ${active.ami} started from` };
  const marker = parseMarker(obs.current?.description);
  if (marker && marker.image === image && marker.fromAmi !== live && marker.fromAmi.startsWith('ami-'))
    return { ami: marker.fromAmi, why: `launch template version ${obs.current!.version} was rolled from version ${marker.fromVersion}` };
  const lkg = parseLkg(obs.group?.tags[TAG_LAST_KNOWN_GOOD]);
  if (lkg && lkg.ami !== live) return { ami: lkg.ami, why: `last-known-good (version ${lkg.version})` };
  const liveAmi = amis.find((a) => a.imageId === live);
  const older = amis.filter((a) => a.imageId !== live && a.state === 'available' && (!liveAmi || builtAt(a) < builtAt(liveAmi)));
  return older[0] ? { ami: older[0].imageId, why: 'the newest AMI of the image built before the live one' } : undefined;
}
