// `sipbake status IMAGE --call`: the instance token (sbinst=PRIVATE_IP in every dialog's Record-Route,
// templates/kamailio/kamailio.cfg.eta) names the instance that holds the call, through the AWS fake.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { parseCallToken } from '../../src/roll/status-call.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

let restore: (() => void) | undefined;
afterEach(() => restore?.());

function world(): FakeInstance[] {
  const fake = new FakeAws({ drainAgent: false });
  const w = seedWorld(fake, {});
  restore = installFakeAws(fake);
  return [...fake.instances.values()].filter((i) => i.asg === w.asg.AutoScalingGroupName);
}

async function status(...args: string[]) {
  const reporter = new RecordingReporter(true);
  const code = await main(['status', 'twilio-relay', ...args], { reporter, env: {}, signal: new AbortController().signal });
  return { code, reporter, text: reporter.lines.map((l) => l.message).join('\n') };
}

describe('sipbake status --call', () => {
  it('a Record-Route carrying the token names the instance that holds the call', async () => {
    const [, second] = world();
    const rr = `Record-Route: <sip:203.0.113.10:5060;lr;sbinst=${second!.PrivateIpAddress};sbport=5060>`;
    const r = await status('--call', rr, '--json');
    expect(r.code).toBe(0);
    expect(r.text).toMatch(
      new RegExp(`sbinst=${second!.PrivateIpAddress!.replaceAll('.', '\\.')} \\(port 5060\\): held by ${second!.InstanceId} \\(InService\\)`),
    );
    expect(r.reporter.results[0]).toMatchObject({ ok: true, call: { owner: { id: second!.InstanceId } } });
  });
  it('a token no instance has: exit 1, and the group listed', async () => {
    const members = world();
    const r = await status('--call', 'sbinst=10.9.9.9');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/sbinst=10\.9\.9\.9: no instance of kamailio-lb-asg has this private address now/);
    for (const m of members) expect(r.text).toContain(m.InstanceId);
  });
  it('a bare Call-ID: says how to ask each instance with sipbake-status --call', async () => {
    const members = world();
    const r = await status('--call', '4711@10.0.0.9');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/"4711@10\.0\.0\.9" is a Call-ID, not an instance token/);
    for (const m of members) expect(r.text).toContain(`aws ssm start-session --target ${m.InstanceId}   # then: sudo sipbake-status --call '4711@10.0.0.9'`);
  });
  it('reads the token as the Kamailio config writes it', async () => {
    // The config's own add_rr_param line: if it changes, the parser must follow.
    const cfg = await readFile(path.join(import.meta.dirname, '../../templates/kamailio/kamailio.cfg.eta'), 'utf8');
    const param = /add_rr_param\("([^"]+)"\)/.exec(cfg)?.[1];
    expect(param).toBe(';sbinst=$var(sbinst);sbport=$Rp');
    const rendered = `<sip:198.51.100.1:5080;lr${param!.replace('$var(sbinst)', '10.0.3.7').replace('$Rp', '5080')}>`;
    expect(parseCallToken(rendered)).toEqual({ ip: '10.0.3.7', port: 5080 });
    expect(parseCallToken('10.0.3.7')).toEqual({ ip: '10.0.3.7' });
    expect(parseCallToken('abc@10.0.3.7')).toEqual({ callId: 'abc@10.0.3.7' });
  });
});
