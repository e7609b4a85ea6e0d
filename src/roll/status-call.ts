// `sipbake status IMAGE --call TOKEN`: which instance holds a call. Every dialog's Record-Route carries the instance
// token `sbinst=PRIVATE_IP;sbport=PORT` (templates/kamailio/kamailio.cfg.eta, add_rr_param; docs/data-plane.md "Several
// instances behind one NLB"), so a Record-Route or Route header from a trace or the far end's logs names the
// owner. A bare Call-ID names no instance from here: only the instances know their dialogs (sipbake-status --call).
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { isIPv4 } from 'node:net';
import type { AwsClients } from '../aws/clients.js';
import { describeGroup } from './observe.js';

export type CallToken = { ip: string; port?: number } | { callId: string };

/** Pure: `sbinst=10.0.1.23`, a whole Record-Route/Route header holding it, or the bare private address. */
export function parseCallToken(text: string): CallToken {
  const t = text.trim();
  const inst = /(?:^|[;\s<])sbinst=([0-9.]+)/i.exec(t)?.[1];
  const port = /(?:^|[;\s<])sbport=(\d+)/i.exec(t)?.[1];
  if (inst && isIPv4(inst)) return { ip: inst, ...(port ? { port: Number(port) } : {}) };
  if (isIPv4(t)) return { ip: t };
  return { callId: t };
}

export interface CallOwner {
  token: CallToken;
  /** The instance whose private address the token names; absent when none of the group's instances has it. */
  owner?: { id: string; privateIp: string; lifecycle: string };
  /** Every instance of the group (to ask with sipbake-status --call when the token is a bare Call-ID). */
  instances: { id: string; privateIp?: string; lifecycle: string }[];
}

export async function findCallOwner(c: Pick<AwsClients, 'autoScaling' | 'ec2'>, asgName: string, tokenText: string): Promise<CallOwner> {
  const token = parseCallToken(tokenText);
  const group = await describeGroup(c, asgName);
  const members = (group?.instances ?? []).filter((i) => i.lifecycleState !== 'Terminated');
  const ips = new Map<string, string>();
  if (members.length > 0) {
    const r = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: members.map((i) => i.id) }));
    for (const i of (r.Reservations ?? []).flatMap((x) => x.Instances ?? [])) if (i.InstanceId && i.PrivateIpAddress) ips.set(i.InstanceId, i.PrivateIpAddress);
  }
  const instances = members.map((i) => ({ id: i.id, lifecycle: i.lifecycleState, ...(ips.has(i.id) ? { privateIp: ips.get(i.id) } : {}) }));
  const hit = 'ip' in token ? instances.find((i) => i.privateIp === token.ip) : undefined;
  return { token, instances, ...(hit?.privateIp ? { owner: { id: hit.id, privateIp: hit.privateIp, lifecycle: hit.lifecycle } } : {}) };
}

/** Pure: the answer in lines; `found` false when the token names no instance of the group. */
export function formatCallOwner(asgName: string, o: CallOwner): { lines: string[]; found: boolean } {
  const t = o.token;
  if ('callId' in t)
    return {
      found: false,
      lines: [
        `${JSON.stringify(t.callId)} is a Call-ID, not an instance token: only the instances know their dialogs.`,
        "  Give the call's Record-Route (or its sbinst=PRIVATE_IP) from a trace, or ask each instance:",
        ...o.instances.map((i) => `  aws ssm start-session --target ${i.id}   # then: sudo sipbake-status --call '${t.callId}'  (exit 0: held there)`),
      ],
    };
  if (o.owner)
    return {
      found: true,
      lines: [`sbinst=${t.ip}${t.port ? ` (port ${t.port})` : ''}: held by ${o.owner.id} (${o.owner.lifecycle}) in ${asgName}`],
    };
  return {
    found: false,
    lines: [
      `sbinst=${t.ip}: no instance of ${asgName} has this private address now: the instance that held the call has left the group, or the token is from another group`,
      ...o.instances.map((i) => `  ${i.id} ${i.privateIp ?? '(address unknown yet)'} ${i.lifecycle}`),
    ],
  };
}
