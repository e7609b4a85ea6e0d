// Which NLB listeners and target groups an image needs (pure, no CDK): one per SIP port, TCP_UDP where UDP and
// TCP share it (NLB "Listeners for your Network Load Balancers": TCP_UDP serves both on one port), TCP for TLS.
import type { ImageDefinition } from '../definition/schema.js';

type NlbProtocol = 'UDP' | 'TCP' | 'TCP_UDP';

export interface SipPort {
  port: number;
  protocol: NlbProtocol;
  /** The target group's name: the one deploy.targetGroupArns names at this position, else IMAGE-PORT. */
  targetGroupName: string;
}

/** The name inside a target group ARN (…:targetgroup/NAME/HEX). */
function targetGroupNameOf(arn: string): string | undefined {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1];
}

export function sipPorts(image: ImageDefinition): SipPort[] {
  const byPort = new Map<number, Set<'UDP' | 'TCP'>>();
  const add = (port: number | undefined, p: 'UDP' | 'TCP') => {
    if (port === undefined) return;
    byPort.set(port, (byPort.get(port) ?? new Set()).add(p));
  };
  add(image.listen.udp, 'UDP');
  add(image.listen.tcp, 'TCP');
  if (image.tls.enabled) add(image.listen.tls, 'TCP');
  const names = image.deploy?.targetGroupArns ?? [];
  return [...byPort].map(([port, set], i) => ({
    port,
    protocol: set.size === 2 ? 'TCP_UDP' : set.has('UDP') ? 'UDP' : 'TCP',
    targetGroupName: (names[i] && targetGroupNameOf(names[i])) ?? `${image.name}-${port}`.slice(0, 32),
  }));
}
