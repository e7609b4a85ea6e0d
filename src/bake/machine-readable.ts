// Packer's -machine-readable output: `timestamp,target,type,data...` per line, commas in data written as
// %!(PACKER_COMMA), newlines as a literal \n. Pure parsing, and the stages shown as progress.

export interface PackerLine {
  timestamp: number;
  target: string;
  type: string;
  data: string[];
}

const unescape = (s: string): string =>
  s
    .replace(/%!\(PACKER_COMMA\)/g, ',')
    .replace(/\\n/g, '\n')
    .replace(/\\r/g, '\r');

export function parseLine(line: string): PackerLine | undefined {
  const [timestamp, target, type, ...data] = line.split(',');
  if (timestamp === undefined || target === undefined || type === undefined || !/^\d+$/.test(timestamp)) return undefined;
  return { timestamp: Number(timestamp), target, type, data: data.map(unescape) };
}

/** The human text of a `ui` line (say/message/error), else undefined. */
export function uiText(l: PackerLine): string | undefined {
  if (l.type !== 'ui') return undefined;
  return l.data.slice(1).join(',');
}

/** Stages of an amazon-ebs build, recognised from Packer's own messages and our scripts' `==> sipbake [NN-name]`. */
const STAGES: [RegExp, string | ((m: RegExpMatchArray) => string)][] = [
  [/Prevalidating|Found Image ID|Creating temporary keypair|Creating temporary security group/, 'preparing'],
  [/Launching a source AWS instance|Waiting for instance .* to become ready/, 'launching the build instance'],
  [/Waiting for SSH to become available|Using SSH communicator/, 'waiting for SSH'],
  [/Connected to SSH/, 'connected'],
  [/Uploading .* =>/, 'uploading the rendered tree and scripts'],
  [/==> sipbake \[(\d+-[a-z0-9-]+)\]/, (m) => `running ${m[1]}`],
  [/Stopping the source instance/, 'stopping the build instance'],
  [/Creating AMI .* from instance|Creating AMI:/, 'creating the AMI'],
  [/Waiting for AMI to become ready/, 'waiting for the AMI'],
  [/Copying\/Encrypting AMI|Copying AMI|Copy AMI/, 'copying to other regions'],
  [/Adding tags to AMI|Tagging snapshot/, 'tagging'],
  [/Terminating the source AWS instance|Cleaning up any extra volumes|Deleting temporary/, 'cleaning up'],
  [/Running post-processor/, 'writing the manifest'],
];

export function stageOf(text: string): string | undefined {
  for (const [re, name] of STAGES) {
    const m = text.match(re);
    if (m) return typeof name === 'string' ? name : name(m);
  }
  return undefined;
}

/** artifact,0,id lines: `us-east-1:ami-1,eu-west-1:ami-2` (also what the manifest's artifact_id holds). */
export function parseArtifactId(id: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of id.split(',')) {
    const [region, ami] = pair.split(':');
    if (region && ami) out[region.trim()] = ami.trim();
  }
  return out;
}
