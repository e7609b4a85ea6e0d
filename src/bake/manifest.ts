// Packer's manifest post-processor output: the AMI per region of the last run.
import { readFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { parseArtifactId } from './machine-readable.js';

interface ManifestBuild {
  name?: string;
  artifact_id?: string;
  packer_run_uuid?: string;
  custom_data?: Record<string, string>;
}

/** Pure: the AMI per region from the manifest's last run, checked against the content hash we built. */
function amisFromManifest(json: unknown, contentHash: string): Record<string, string> {
  const m = json as { builds?: ManifestBuild[]; last_run_uuid?: string };
  const builds = (m.builds ?? []).filter((b) => !m.last_run_uuid || b.packer_run_uuid === m.last_run_uuid);
  const build = builds.at(-1);
  if (!build?.artifact_id)
    throw new UserError('the Packer manifest has no artifact for this run', 'look at the packer output above; the AMI may not have been created');
  if (build.custom_data?.content_hash && build.custom_data.content_hash !== contentHash) {
    throw new UserError(
      `the Packer manifest is for content ${build.custom_data.content_hash.slice(0, 12)}, not ${contentHash.slice(0, 12)}`,
      'run the build again',
    );
  }
  return parseArtifactId(build.artifact_id);
}

export async function readManifest(file: string, contentHash: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`Packer wrote no manifest at ${file}`, 'check that the manifest post-processor ran (see the packer output)');
  }
  return amisFromManifest(JSON.parse(text), contentHash);
}
