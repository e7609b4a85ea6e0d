// Reading this image's AMIs from EC2 (effects). Newest first by sipbake:built-at, then CreationDate.
import { AMI_TAG } from '../contract/tags.js';
import { DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients.js';
import { returned } from '../aws/response.js';
import type { AmiInfo } from './types.js';

function toAmiInfo(i: Image): AmiInfo {
  return {
    imageId: returned(i.ImageId, 'DescribeImages Images[].ImageId'),
    name: i.Name ?? '',
    state: i.State ?? 'unknown',
    ...(i.Architecture ? { architecture: i.Architecture } : {}),
    ...(i.CreationDate ? { creationDate: i.CreationDate } : {}),
    ...(i.ImdsSupport ? { imdsSupport: i.ImdsSupport } : {}),
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

export function builtAt(a: AmiInfo): string {
  return a.tags[AMI_TAG.builtAt] ?? a.creationDate ?? '';
}

function newestFirst(amis: AmiInfo[]): AmiInfo[] {
  return [...amis].sort((a, b) => builtAt(b).localeCompare(builtAt(a)) || b.imageId.localeCompare(a.imageId));
}

/** Every available or disabled AMI tagged sipbake:image=IMAGE in this account and region. */
export async function listImageAmis(c: Pick<AwsClients, 'ec2'>, image: string): Promise<AmiInfo[]> {
  const out = await c.ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      IncludeDisabled: true,
      Filters: [{ Name: 'tag:sipbake:image', Values: [image] }],
    }),
  );
  return newestFirst((out.Images ?? []).map(toAmiInfo));
}

/** One AMI by id; state 'missing' when EC2 no longer shows it (deregistered a while ago). */
export async function getAmi(c: Pick<AwsClients, 'ec2'>, imageId: string): Promise<AmiInfo> {
  try {
    const out = await c.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDisabled: true }));
    const img = out.Images?.[0];
    return img ? toAmiInfo(img) : { imageId, name: '', state: 'missing', tags: {} };
  } catch (e) {
    if (e instanceof Error && /InvalidAMIID/.test(e.name)) return { imageId, name: '', state: 'missing', tags: {} };
    throw e;
  }
}
