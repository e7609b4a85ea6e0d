// Which regions already have an AMI of this content (EC2 DescribeImages by tag). Effects only; the
// decision is made by decide.ts.
import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { AMI_TAG as TAG } from '../contract/tags.js';

export type Ec2ForRegion = (region: string) => EC2Client;

export interface FoundImage {
  imageId: string;
  name: string;
  creationDate: string;
  tags: Record<string, string>;
}

const view = (i: Image): FoundImage => ({
  imageId: i.ImageId ?? '',
  name: i.Name ?? '',
  creationDate: i.CreationDate ?? '',
  tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
});

const newest = (imgs: Image[]): FoundImage | undefined =>
  imgs
    .map(view)
    .sort((a, b) => b.creationDate.localeCompare(a.creationDate))
    .at(0);

/** Per region: an available AMI of this image with this content hash, if any. Regions are asked in parallel. */
export async function findByContent(
  ec2For: Ec2ForRegion,
  regions: string[],
  image: string,
  hash: string,
  signal?: AbortSignal,
): Promise<Record<string, FoundImage | undefined>> {
  const found = await Promise.all(
    regions.map(async (region) => {
      const r = await ec2For(region).send(
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: [
            { Name: `tag:${TAG.image}`, Values: [image] },
            { Name: `tag:${TAG.contentHash}`, Values: [hash] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
        signal ? { abortSignal: signal } : {},
      );
      return [region, newest(r.Images ?? [])] as const;
    }),
  );
  return Object.fromEntries(found);
}

/** The newest AMI of this image in a region, whatever its content (for --plan's "what changed"). */
export async function latestOfImage(ec2: EC2Client, image: string, signal?: AbortSignal): Promise<FoundImage | undefined> {
  const r = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: `tag:${TAG.image}`, Values: [image] }] }),
    signal ? { abortSignal: signal } : {},
  );
  return newest(r.Images ?? []);
}
