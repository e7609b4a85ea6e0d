import { defineCommand } from '../command.js';
import { UsageError } from '../../core/errors.js';
import type { Reporter } from '../../core/reporter.js';
import type { RehearsalSummary, TimelineEntry } from '../../rehearse/run.js';

// `sipbake rehearse IMAGE`: the seed's network on this machine (namespaces, nftables), live calls, a roll in AWS's order.

export default defineCommand({
  command: 'rehearse <image>',
  describe: 'Roll N instances of IMAGE behind an emulated NLB and NAT gateway onto a new image under live calls (root, Linux); no AWS account needed',
  builder: (y) =>
    y
      .positional('image', {
        type: 'string',
        demandOption: true,
        describe: 'Name under images/ or a path to a YAML file',
      })
      .option('instances', { type: 'number', default: 3, describe: 'Instances in the Auto Scaling group (1-20)' })
      .option('calls', { type: 'number', default: 30, describe: 'Calls placed while the group rolls' })
      .option('call-seconds', {
        type: 'number',
        default: 60,
        describe: 'Longest call in real seconds (calls hold 1/3 to all of it, scaled)',
      })
      .option('to', { type: 'string', describe: 'The new image (default: IMAGE rendered again)' })
      .option('scale', {
        type: 'number',
        default: 10,
        describe: 'Time scale: every AWS delay and call length is divided by this',
      })
      .option('deregistration-delay', {
        type: 'number',
        default: 30,
        describe: 'Target group deregistration delay, real seconds',
      })
      .option('hook-timeout', {
        type: 'number',
        default: 120,
        describe: 'Termination lifecycle hook HeartbeatTimeout, real seconds',
      })
      .option('trunk', {
        type: 'boolean',
        default: true,
        describe: 'Also place calls as a busy SIP trunk: all from one address and port (one UDP flow) through the whole roll',
      })
      .option('tcp', {
        type: 'boolean',
        default: true,
        describe: "Also place TCP calls (a connection each) through the NLB's TCP listener; they hold at most 4/5 of the deregistration delay",
      })
      .option('peer-discovery', {
        type: 'boolean',
        default: true,
        describe:
          'Serve EC2 DescribeInstances to the drain agents, so a draining instance can hand new INVITEs to a serving peer (--no-peer-discovery: it refuses them)',
      })
      .option('break', {
        // A string: yargs would read `--break 503` as the number 503, which no choice matches.
        type: 'string',
        choices: ['start', '503', 'slow-boot'] as const,
        describe: 'Make the second image broken: its Kamailio never starts, it answers 503 to every request, or it boots slowly (but well)',
      })
      .option('media-address', {
        type: 'string',
        choices: ['instance', 'signalling'] as const,
        default: 'instance',
        describe:
          "Where an RTPProxy image advertises media: each instance's own address (RTP never crosses the NLB), or the NLB's single signalling address (the negative control: calls without audio)",
      })
      .option('kill-kamailio', {
        type: 'number',
        describe: "Fault injection: SIGKILL old instance K's Kamailio as the roll starts (its NLB target turns unhealthy after the threshold)",
      })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep the work directory (logs, rendered trees)' })
      // r4-baked: the fidelity mode (src/rehearse/baked-instance.ts)
      .option('baked', {
        type: 'boolean',
        default: false,
        describe: 'Boot each instance from a local bake of the image (sipbake build --local) under systemd-nspawn',
      })
      .example('$0 rehearse twilio-relay', 'as root: 3 instances, 30 calls, rolled onto the same image rendered again')
      .example('$0 rehearse recorder-lb --instances 6 --json', 'as root: 6 instances, the summary as JSON'),
  run: async (o, ctx) => {
    if (!(Number.isInteger(o.instances) && o.instances >= 1 && o.instances <= 20))
      throw new UsageError(`--instances must be a whole number from 1 to 20 (got ${o.instances})`);
    const progress = progressSink(ctx.reporter);
    // The rehearsal (netns, the agent bundle, SIPp) loads when it runs, not for --help and completion.
    const { rehearse } = await import('../../rehearse/run.js');
    const summary = await rehearse({
      root: ctx.root,
      image: o.image,
      ...(o.to ? { to: o.to } : {}),
      instances: o.instances,
      calls: o.calls,
      callSeconds: o['call-seconds'],
      scale: o.scale,
      deregistrationDelaySeconds: o['deregistration-delay'],
      hookTimeoutSeconds: o['hook-timeout'],
      trunk: o.trunk,
      tcp: o.tcp,
      peerDiscovery: o['peer-discovery'],
      keepDir: o.keep,
      ...(o.baked ? { baked: true } : {}), // r4-baked
      ...(o.break ? { break: o.break } : {}),
      mediaAddress: o['media-address'] === 'signalling' ? 'signalling' : 'instance',
      ...(o['kill-kamailio'] !== undefined ? { killKamailio: o['kill-kamailio'] } : {}),
      ...progress,
      signal: ctx.signal,
      onForcedExit: ctx.onForcedExit,
    });
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(formatSummary(summary));
    // Every non-zero exit names its reasons: on stderr as text, or (--json) as one more NDJSON event.
    if (!summary.verdict.ok && ctx.reporter.json) ctx.reporter.event({ event: 'rehearsal-failed', reasons: summary.verdict.reasons });
    else if (!summary.verdict.ok) for (const r of summary.verdict.reasons) ctx.reporter.line(`rehearsal failed: ${r}`, 'error');
    return summary.verdict.ok ? 0 : 1;
  },
});

/** Progress: in --json mode one NDJSON object per stderr line (the reporter's events), as --help promises; in a
 *  terminal, the timeline as text. */
export function progressSink(reporter: Reporter): { log: (line: string) => void; onEvent?: (e: TimelineEntry) => void } {
  if (!reporter.json) return { log: (l) => reporter.line(l) };
  return {
    log: (message) => reporter.event({ event: 'rehearsal-note', message }),
    onEvent: (e) => reporter.event({ event: 'rehearsal', t: e.t, id: e.id, what: e.what }),
  };
}

export function formatSummary(s: RehearsalSummary): string {
  const lines = [
    '',
    `rehearsal: ${s.image} → ${s.to}, ${s.instances} instance(s), engine: ${s.engine}${s.mediaAddress ? `, media on ${s.mediaAddress === 'instance' ? "each instance's own address" : "the NLB's signalling address"}` : ''}; times below in AWS seconds (run 1/${s.scale} as fast) unless marked wall clock`,
    `calls: ${s.calls.placed} placed, ${s.calls.completed} completed (${s.calls.callerBye} caller BYE, ${s.calls.calleeBye} callee BYE, ${s.calls.answeredAfterRetransmission} answered only after INVITE retransmissions), ${s.calls.dropped} dropped (${s.calls.cutByRehearsal} by the rehearsal's own wait limit), ${s.calls.refused} refused, ${s.calls.unanswered} unanswered, ${s.calls.unplaced} never placed`,
    ...(s.trunk
      ? [
          `trunk ${s.trunk.source} (one UDP flow): ${s.trunk.placed} placed, ${s.trunk.completed} completed (${s.trunk.callerBye} caller BYE, ${s.trunk.calleeBye} callee BYE), ${s.trunk.dropped} dropped, ${s.trunk.refused} refused, ${s.trunk.unanswered} unanswered; ${s.trunk.placedWhileDraining} placed while its flow's instance was draining, ${s.trunk.handedOff} handed off to a serving peer`,
        ]
      : []),
    ...(s.holders
      ? [
          `holders (a source per old instance, so each holds calls when picked): ${s.holders.placed} placed, ${s.holders.completed} completed, ${s.holders.dropped} dropped, ${s.holders.refused} refused, ${s.holders.unanswered} unanswered`,
        ]
      : []),
    ...(s.tcp
      ? [
          `tcp (a connection per call): ${s.tcp.placed} placed, ${s.tcp.completed} completed, ${s.tcp.dropped} dropped, ${s.tcp.refused} refused, ${s.tcp.unanswered} unanswered`,
        ]
      : []),
    `NAT path: ${s.natPath.outboundInvites} INVITE(s) reached the destination (${s.natPath.invitesWithRport} with rport in the proxy's Via), ${s.natPath.byesFromProxy} BYE(s); ${s.natPath.natFlows} flow(s) translated to the NAT gateway's address, ${s.natPath.natPortsKept} kept their source port`,
    `roll: ${s.rollSeconds.toFixed(0)} s of scaled time (sequential floor ${s.floorSeconds.toFixed(0)} s) + ${s.times.launchWallSeconds.toFixed(1)} s of launches (wall clock, not scaled); ${s.times.wallSeconds.toFixed(1)} s wall clock in all; hooks timed out: ${s.hooksTimedOut}`,
    `not scaled: ${s.times.unscaled.join('; ')}`,
    '',
    'instance            held at pick   drain   longest call   bound (+dereg +poll)   ended by',
  ];
  for (const i of s.perInstance) {
    // The rehearsal sets both for an instance it picked and terminated; the others never drained.
    const { drainSeconds, longestRemainingCallSeconds } = i;
    if (drainSeconds === undefined || longestRemainingCallSeconds === undefined) continue;
    lines.push(
      `${i.id.padEnd(18)} ${String(i.callsAtPick ?? 0).padStart(6)} call(s) ${drainSeconds.toFixed(0).padStart(5)} s ${longestRemainingCallSeconds.toFixed(0).padStart(8)} s     ${i.withinBound ? 'within' : 'EXCEEDED'}               ${i.endedBy ?? '?'}`,
    );
  }
  lines.push('', s.verdict.line);
  return `${lines.join('\n')}\n`;
}
