// An in-dialog request (BYE, INFO) for a dialog another instance owns is forwarded to that owner; when the owner is
// dead the caller must get a prompt 481, not 100 and then 408 when tm's fr_timer fires. The live proof is
// test/sip/instance-health.live.test.ts; this checks the mechanism in the rendered config of both seeds, route by
// route: route[TO_OWNER] arms a shortened timer and a failure route before its t_relay (never for ACK, which has
// no transaction), and that failure route answers 481 only when the owner's branch timed out without a reply.
// Negative controls: in templates/kamailio/kamailio.cfg.eta, failure_route[OWNER_GONE]'s t_reply("481", ...) made
// t_reply("408", ...) fails "answers 481"; the t_on_failure("OWNER_GONE") line removed fails "arms".
import { describe, expect, it } from 'vitest';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { planImage } from '../../src/render/index.js';
import { KAMAILIO_CFG_PATH } from '../../src/render/plan.js';
import { cfgBlocks, cfgSteps, type CfgStep } from './cfg-routes.js';
import { repoRoot } from './fixtures.js';

async function renderedCfg(name: string): Promise<string> {
  const { image } = await loadImageOrThrow(repoRoot, name);
  const plan = await planImage(repoRoot, image);
  return plan.files.find((f) => f.path === KAMAILIO_CFG_PATH)!.content;
}

async function routes(name: string): Promise<{ cfg: string; steps: (block: string) => CfgStep[]; has: (block: string) => boolean }> {
  const cfg = await renderedCfg(name);
  const blocks = cfgBlocks(cfg);
  const steps = (block: string) => {
    const nodes = blocks.get(block);
    if (!nodes) throw new Error(`${name}: no ${block} in the rendered kamailio.cfg`);
    return cfgSteps(nodes);
  };
  return { cfg, steps, has: (block) => blocks.has(block) };
}

/** The one step matching `re`; fails the test when there is none or more than one. */
function only(steps: CfgStep[], re: RegExp, what: string): { step: CfgStep; at: number } {
  const found = steps.flatMap((step, at) => (re.test(step.text) ? [{ step, at }] : []));
  expect(found.length, `${what}: exactly one step matching ${String(re)}`).toBe(1);
  return found[0]!;
}

/** tm's modparam `name` (ms), or its default. */
function tmParam(cfg: string, name: string, dflt: number): number {
  const m = new RegExp(`^modparam\\("tm", "${name}", (\\d+)\\)`, 'm').exec(cfg);
  return m ? Number(m[1]) : dflt;
}

describe.each(['twilio-relay', 'recorder-lb'])('%s: an in-dialog request for a dead owner gets a prompt 481', (name) => {
  it('sends every in-dialog BYE and INFO to route[TO_OWNER] before it is loose-routed here', async () => {
    const r = await routes(name);
    expect(only(r.steps('request_route'), /^route\(WITHINDLG\)$/, 'request_route').step.conds).toEqual([]);
    const dlg = r.steps('route[WITHINDLG]');
    const toOwner = only(dlg, /^route\(TO_OWNER\)$/, 'route[WITHINDLG]');
    expect(toOwner.step.conds, 'route(TO_OWNER) runs for every in-dialog request that gets this far').toEqual([]);
    expect(only(dlg, /^loose_route\(\)$/, 'route[WITHINDLG]').at).toBeGreaterThan(toOwner.at);
    // The method filter before it sends other methods away (route[NOT_OUR_DIALOG]); BYE and INFO pass it.
    const filter = only(dlg, /^!is_method\("[A-Z|]+"\)$/, 'route[WITHINDLG] method filter');
    expect(filter.at).toBeLessThan(toOwner.at);
    expect(/"([A-Z|]+)"/.exec(filter.step.text)![1]!.split('|')).toEqual(expect.arrayContaining(['BYE', 'INFO']));
  });

  it('arms a shortened timer and the failure route on the forward to the owner (not for ACK), then relays', async () => {
    const r = await routes(name);
    const s = r.steps('route[TO_OWNER]');
    const relay = only(s, /\bt_relay\(\)/, 'route[TO_OWNER] t_relay');
    expect(relay.step).toMatchObject({ kind: 'cond', text: '!t_relay()', conds: [] });
    const du = only(s, /^\$du = "sip:" \+ \$var\(owner\)/, 'the owner as destination');
    const timer = only(s, /^t_set_fr\(/, 'route[TO_OWNER] t_set_fr');
    const armed = only(s, /^t_on_failure\(/, 'route[TO_OWNER] t_on_failure');
    for (const x of [du, timer, armed]) expect(x.at, x.step.text).toBeLessThan(relay.at);
    expect(du.step.conds).toEqual([]);
    expect(timer.step.conds).toEqual(['!is_method("ACK")']);
    expect(armed.step.conds).toEqual(['!is_method("ACK")']);
    // t_set_fr(fr_inv, fr): the non-INVITE timer (BYE, INFO) below fr_timer, yet after the forward's two UDP
    // retransmissions (T1, then 2 x T1 later) so a live but busy owner still gets them.
    const [, inv, fr] = /^t_set_fr\((\d+), (\d+)\)$/.exec(timer.step.text) ?? [];
    expect(Number(inv), 'the INVITE timer unchanged (0)').toBe(0);
    expect(Number(fr)).toBeLessThanOrEqual(2000);
    expect(Number(fr)).toBeLessThan(tmParam(r.cfg, 'fr_timer', 30_000));
    expect(Number(fr)).toBeGreaterThanOrEqual(3 * tmParam(r.cfg, 't1_timer', 500));
    const failure = /^t_on_failure\("(\w+)"\)$/.exec(armed.step.text)?.[1];
    expect(r.has(`failure_route[${failure ?? ''}]`), `failure_route[${failure ?? ''}] exists`).toBe(true);
    // Nothing to send it on (a refused TCP connection): 481 at once; either way the request goes no further.
    const refused = s.filter((x) => x.conds.includes('!t_relay()')).map((x) => x.text);
    expect(
      refused.some((t) => /^(send_reply|sl_send_reply|t_reply)\("481",/.test(t)),
      refused.join('; '),
    ).toBe(true);
    expect(s.slice(relay.at + 1).filter((x) => x.conds.length === 0)).toEqual([{ kind: 'stmt', text: 'exit', conds: [] }]);
  });

  it("answers 481 from the failure route when the owner's branch timed out without a reply, and only then", async () => {
    const r = await routes(name);
    const armed = only(r.steps('route[TO_OWNER]'), /^t_on_failure\(/, 'route[TO_OWNER] t_on_failure');
    const s = r.steps(`failure_route[${/"(\w+)"/.exec(armed.step.text)![1]!}]`);
    const reply = only(s, /^t_reply\(/, 'the failure route t_reply');
    expect(reply.step.text).toMatch(/^t_reply\("481", "Call\/Transaction Does Not Exist"\)$/);
    // A reply the owner sent (a 4xx, a 5xx) goes back as it is: the 481 is for the timeout with no reply only.
    expect(reply.step.conds).toHaveLength(1);
    expect(reply.step.conds[0]).toMatch(/\bt_branch_timeout\(\)/);
    expect(reply.step.conds[0]).toMatch(/!\s*t_branch_replied\(\)/);
    // A cancelled transaction ends first; nothing is sent anywhere else from here.
    const cancelled = only(s, /^t_is_canceled\(\)$/, 'the failure route cancel check');
    expect(cancelled.at).toBeLessThan(reply.at);
    expect(s.find((x) => x.conds.includes('t_is_canceled()'))?.text).toBe('exit');
    expect(s.filter((x) => /\b(t_relay|append_branch|ds_next_dst|t_send_reply|send_reply)\(/.test(x.text))).toEqual([]);
  });
});
