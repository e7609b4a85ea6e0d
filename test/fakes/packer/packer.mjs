#!/usr/bin/env node
// A fake `packer` for build orchestration tests. Put its directory first on PATH.
// FAKE_PACKER_LOG: file that gets one JSON line per call ({ argv, cwd }).
// FAKE_PACKER_MODE: ok (default) | expired (fails like expired AWS credentials) | script (a bake script fails) | crash
//                   | hang (waits; on SIGINT "cleans up", touches FAKE_PACKER_CLEANED, exits 1) | nomanifest
//                   | stubborn (waits and ignores SIGINT: a Packer that never finishes its clean-up)
// FAKE_PACKER_SIGINTS: file that gets one line per SIGINT received (a second one makes real Packer give up cleaning).
// FAKE_PACKER_VERSION: what `packer version` reports (default 1.11.2); FAKE_PACKER_PLUGINS: what `packer plugins
// installed` lists, comma-separated amazon plugin versions (default 1.3.3; empty: none). These queries (sipbake's
// check before a bake) go to FAKE_PACKER_QUERIES, not to FAKE_PACKER_LOG, which holds the runs that change things.
// On `build`, reads -var-file for region, ami_regions, manifest_path, content_hash, image_name, and writes the
// manifest the manifest post-processor would, with ami-<n> per region.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const query = argv[0] === 'version' || (argv[0] === 'plugins' && argv[1] === 'installed');
if (query && process.env.FAKE_PACKER_QUERIES) appendFileSync(process.env.FAKE_PACKER_QUERIES, `${JSON.stringify({ argv, at: Date.now() })}\n`);
if (!query && process.env.FAKE_PACKER_LOG) appendFileSync(process.env.FAKE_PACKER_LOG, `${JSON.stringify({ argv, cwd: process.cwd(), pid: process.pid })}\n`);
const mode = process.env.FAKE_PACKER_MODE ?? 'ok';
const ts = () => Math.floor(Date.now() / 1000);
const esc = (s) => s.replace(/,/g, '%!(PACKER_COMMA)').replace(/\n/g, '\\n');
const ui = (text, kind = 'say') => console.log(`${ts()},,ui,${kind},${esc(text)}`);

if (argv[0] === 'version') {
  console.log(`Packer v${process.env.FAKE_PACKER_VERSION ?? '1.11.2'}`);
  process.exit(0);
}
if (argv[0] === 'plugins' && argv[1] === 'installed') {
  const home = process.env.PACKER_PLUGIN_PATH ?? `${process.env.HOME ?? '/root'}/.config/packer/plugins`;
  for (const v of (process.env.FAKE_PACKER_PLUGINS ?? '1.3.3').split(',').filter(Boolean))
    console.log(`${home}/github.com/hashicorp/amazon/packer-plugin-amazon_v${v}_x5.0_linux_amd64`);
  process.exit(0);
}
if (argv[0] === 'init') {
  console.log('Installed plugin github.com/hashicorp/amazon v1.3.3 (fake)');
  process.exit(0);
}
if (argv[0] !== 'build') {
  console.error(`fake packer: unsupported command ${argv[0]}`);
  process.exit(2);
}

const varFile = argv.find((a) => a.startsWith('-var-file='))?.slice('-var-file='.length);
const text = readFileSync(path.resolve(varFile), 'utf8');
const str = (k) => new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, 'm').exec(text)?.[1] ?? '';
const list = (k) => JSON.parse(new RegExp(`^${k}\\s*=\\s*(\\[.*\\])`, 'm').exec(text)?.[1] ?? '[]');
const region = str('region');
const regions = [region, ...list('ami_regions')];

// Resource lines as packer-plugin-amazon prints them (builder/common step_key_pair.go, step_security_group.go,
// step_run_source_instance.go): what src/bake/packer-leftovers.ts reads after an interrupt.
ui('==> amazon-ebs.sipbake: Prevalidating any provided VPC information');
ui('==> amazon-ebs.sipbake: Creating temporary keypair: packer_6560a1b2-fake');
ui('==> amazon-ebs.sipbake: Creating temporary security group for this instance: sg-0123456789abcdef0');
ui('==> amazon-ebs.sipbake: Launching a source AWS instance...');
ui('    amazon-ebs.sipbake: Instance ID: i-0123456789abcdef0', 'message');
ui('==> amazon-ebs.sipbake: Waiting for SSH to become available...');
ui('==> amazon-ebs.sipbake: Connected to SSH!');
ui('==> amazon-ebs.sipbake: Uploading /tmp/tree/ => /tmp/sipbake/tree');
ui('    amazon-ebs.sipbake: ==> sipbake [00-base] apt-get update', 'message');

if (mode === 'expired') {
  ui(
    "Build 'amazon-ebs.sipbake' errored after 2 seconds: error creating instance: ExpiredToken: The security token included in the request is expired\n\tstatus code: 400",
    'error',
  );
  ui('==> amazon-ebs.sipbake: Terminating the source AWS instance...');
  process.exit(1);
}
if (mode === 'script') {
  ui('    amazon-ebs.sipbake: ==> sipbake [20-kamailio] make all (-j2)', 'message');
  ui('    amazon-ebs.sipbake: ==> sipbake [40-config] error: kamailio rejects the baked config /etc/kamailio/kamailio.cfg', 'message');
  ui('==> amazon-ebs.sipbake: Terminating the source AWS instance...');
  ui("Build 'amazon-ebs.sipbake' errored after 5 minutes: Script exited with non-zero exit status: 1", 'error');
  process.exit(1);
}
if (mode === 'crash') {
  ui("Build 'amazon-ebs.sipbake' errored after 1 second: something nobody has seen before", 'error');
  console.error('panic: unexpected');
  process.exit(1);
}
if (process.env.FAKE_PACKER_SIGINTS) process.on('SIGINT', () => appendFileSync(process.env.FAKE_PACKER_SIGINTS, 'SIGINT\n'));
if (mode === 'stubborn') {
  process.on('SIGINT', () => ui('==> amazon-ebs.sipbake: (fake) ignoring the interrupt'));
  setTimeout(() => process.exit(3), 60_000);
} else if (mode === 'hang') {
  ui('    amazon-ebs.sipbake: ==> sipbake [20-kamailio] make all (-j2)', 'message');
  process.on('SIGINT', () => {
    ui('==> amazon-ebs.sipbake: Terminating the source AWS instance...');
    ui('==> amazon-ebs.sipbake: Deleting temporary security group...');
    ui('==> amazon-ebs.sipbake: Deleting temporary keypair...');
    if (process.env.FAKE_PACKER_CLEANED) writeFileSync(process.env.FAKE_PACKER_CLEANED, 'cleaned\n');
    process.exit(1);
  });
  setTimeout(() => process.exit(3), 60_000);
} else {
  ui('    amazon-ebs.sipbake: ==> sipbake [90-cleanup] no secret-looking values found', 'message');
  ui('==> amazon-ebs.sipbake: Stopping the source instance...');
  ui(`==> amazon-ebs.sipbake: Creating AMI sipbake-${str('image_name')}-x from instance i-0abc`);
  ui('==> amazon-ebs.sipbake: Waiting for AMI to become ready...');
  if (regions.length > 1) ui('==> amazon-ebs.sipbake: Copying/Encrypting AMI (ami-1) to other regions...');
  ui('==> amazon-ebs.sipbake: Terminating the source AWS instance...');
  ui('==> amazon-ebs.sipbake: Running post-processor: manifest');
  const artifact = regions.map((r, i) => `${r}:ami-0fake${String(i + 1).padStart(12, '0')}`).join(',');
  console.log(`${ts()},amazon-ebs.sipbake,artifact,0,id,${esc(artifact)}`);
  if (mode !== 'nomanifest') {
    const run = 'run-uuid-1';
    writeFileSync(
      str('manifest_path'),
      JSON.stringify({
        builds: [
          {
            name: 'sipbake',
            builder_type: 'amazon-ebs',
            artifact_id: artifact,
            packer_run_uuid: run,
            custom_data: { content_hash: str('content_hash'), image: str('image_name') },
          },
        ],
        last_run_uuid: run,
      }),
    );
  }
  process.exit(0);
}
