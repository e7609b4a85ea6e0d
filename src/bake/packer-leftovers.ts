// What a stopped Packer left in AWS, read from its own UI messages (pure). The messages are those of
// hashicorp/packer-plugin-amazon, builder/common: step_key_pair.go ("Creating temporary keypair: NAME",
// "Deleting temporary keypair..."), step_security_group.go ("Creating temporary security group for this
// instance: sg-…", "Deleting temporary security group..."), step_run_source_instance.go ("Instance ID: i-…",
// "Terminating the source AWS instance..."), step_create_ami.go cleanup ("Deregistering the AMI and deleting
// associated snapshots because of cancellation, or error...").

export interface PackerResources {
  instance?: string;
  keyPair?: string;
  securityGroup?: string;
  /** "Creating AMI …" was seen: an AMI may exist until Packer deregisters it. */
  amiStarted: boolean;
  terminated: boolean;
  keyPairDeleted: boolean;
  securityGroupDeleted: boolean;
  amiDeregistered: boolean;
}

export function trackResources(texts: readonly string[]): PackerResources {
  const r: PackerResources = {
    amiStarted: false,
    terminated: false,
    keyPairDeleted: false,
    securityGroupDeleted: false,
    amiDeregistered: false,
  };
  for (const t of texts) {
    const inst = t.match(/Instance ID: (i-[0-9a-f]+)/) ?? t.match(/Waiting for instance \((i-[0-9a-f]+)\)/);
    if (inst) r.instance = inst[1];
    const key = t.match(/Creating temporary keypair: (\S+)/);
    if (key) r.keyPair = key[1];
    const sg = t.match(/Creating temporary security group for this instance: (\S+)/);
    if (sg) r.securityGroup = sg[1];
    if (/Creating AMI/.test(t)) r.amiStarted = true;
    if (/Terminating the source AWS instance/.test(t)) r.terminated = true;
    if (/Deleting temporary keypair/.test(t)) r.keyPairDeleted = true;
    if (/Deleting temporary security group/.test(t)) r.securityGroupDeleted = true;
    if (/Deregistering the AMI/.test(t)) r.amiDeregistered = true;
  }
  return r;
}

/**
 * The lines for the person who stopped the bake. `finished`: Packer exited by itself after the interrupt (its
 * clean-up ran); otherwise it was killed or abandoned mid-way and anything it created may still exist.
 */
export function leftoverLines(r: PackerResources, o: { finished: boolean; region?: string }): string[] {
  const reg = o.region ? ` --region ${o.region}` : '';
  const left: string[] = [];
  if (r.instance && !(o.finished && r.terminated)) left.push(`build instance ${r.instance}: aws ec2 terminate-instances --instance-ids ${r.instance}${reg}`);
  if (r.securityGroup && !(o.finished && r.securityGroupDeleted))
    left.push(`security group ${r.securityGroup}: aws ec2 delete-security-group --group-id ${r.securityGroup}${reg} (after the instance is gone)`);
  if (r.keyPair && !(o.finished && r.keyPairDeleted)) left.push(`key pair ${r.keyPair}: aws ec2 delete-key-pair --key-name ${r.keyPair}${reg}`);
  if (r.amiStarted && !(o.finished && r.amiDeregistered))
    left.push(
      `an AMI being created from ${r.instance ?? 'the build instance'}: sipbake history IMAGE, or aws ec2 describe-images --owners self --filters Name=tag:sipbake:image,Values=IMAGE${reg}`,
    );
  const done = [
    r.terminated && r.instance ? `terminated ${r.instance}` : '',
    r.securityGroupDeleted ? 'deleted its security group' : '',
    r.keyPairDeleted ? 'deleted its key pair' : '',
    r.amiDeregistered ? 'deregistered the unfinished AMI' : '',
  ].filter(Boolean);
  const out: string[] = [];
  if (o.finished)
    out.push(
      done.length
        ? `Packer cleaned up in AWS: ${done.join(', ')}.`
        : r.instance
          ? 'Packer exited after the interrupt.'
          : 'Packer stopped before it launched anything in AWS.',
    );
  else out.push('Packer did not finish its clean-up.');
  if (left.length) {
    out.push(o.finished ? 'Packer did not confirm these; check them:' : 'Left in AWS (check, then delete):');
    out.push(...left.map((l) => `  ${l}`));
  } else out.push('Nothing was left in AWS.');
  return out;
}
