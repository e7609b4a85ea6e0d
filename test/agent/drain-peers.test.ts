import { afterEach, describe, expect, it } from 'vitest';
import { drainSchema } from '../../src/definition/drain-schema.js';
import { runDrain } from '../../src/agent/drain.js';
import { lifecycleHook } from '../../src/agent/lifecycle.js';
import type { KamailioRpc } from '../../src/agent/kamailio-rpc.js';
import { choosePeer, inCidr, peerFinder, servingPeers } from '../../src/agent/peers.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';
import type { Policy } from '../../src/iam/policies.js';

// The serving-peer lookup of a draining instance (Auto Scaling DescribeAutoScalingInstances and
// DescribeAutoScalingGroups, EC2 DescribeInstances) through real SDK clients on the stateful AWS fake, every
// call evaluated against the instance role `sipbake iam instance` prints; then the whole drain loop with it.

let h: FakeAwsHandle | undefined;
afterEach(() => h?.restore());

const ASG = 'kamailio-lb-asg';

function world(o: { policy?: (p: Policy) => Policy; expectDenials?: boolean } = {}) {
  h = createFakeAws({
    drainAgent: false,
    iam: { role: 'instance', ...(o.policy ? { policy: o.policy } : {}), ...(o.expectDenials ? { expectDenials: true } : {}) },
  });
  seedWorld(h.fake, { desired: 3, heartbeat: 60 });
  const [self, p1, p2] = [...h.fake.instances.values()].sort((a, b) => a.InstanceId.localeCompare(b.InstanceId)) as [FakeInstance, FakeInstance, FakeInstance];
  return { h, self, p1, p2 };
}

const finder = (w: ReturnType<typeof world>, peerNet?: string) =>
  peerFinder({ autoScaling: w.h.clients.autoScaling, ec2: w.h.clients.ec2, instanceId: w.self.InstanceId, ...(peerNet ? { peerNet } : {}) });

describe('serving peers (pure)', () => {
  it('keeps InService, Healthy members other than self, by instance id', () => {
    expect(
      servingPeers(
        [
          { InstanceId: 'i-3', LifecycleState: 'InService', HealthStatus: 'Healthy' },
          { InstanceId: 'i-1', LifecycleState: 'InService', HealthStatus: 'Healthy' },
          { InstanceId: 'i-self', LifecycleState: 'InService', HealthStatus: 'Healthy' },
          { InstanceId: 'i-2', LifecycleState: 'Terminating', HealthStatus: 'Healthy' },
          { InstanceId: 'i-4', LifecycleState: 'InService', HealthStatus: 'Unhealthy' },
          { InstanceId: 'i-5', LifecycleState: 'Pending', HealthStatus: 'Healthy' },
        ],
        'i-self',
      ),
    ).toEqual(['i-1', 'i-3']);
  });

  it.each([
    ['10.0.1.5', '10.0.0.0/16', true],
    ['10.1.0.5', '10.0.0.0/16', false],
    ['127.0.45.2', '127.0.45.0/29', true],
    ['127.0.45.9', '127.0.45.0/29', false],
    ['10.0.0.1', '10.0.0.1/32', true],
    ['10.0.0.1', '0.0.0.0/0', true],
    ['fe80::1', '10.0.0.0/8', false],
  ])('%s in %s: %s', (ip, cidr, want) => {
    expect(inCidr(ip, cidr)).toBe(want);
  });

  it('chooses the first peer whose address is inside the peer network', () => {
    const addrs = new Map([
      ['i-1', '192.168.0.9'],
      ['i-2', '10.0.0.7'],
    ]);
    expect(choosePeer(['i-1', 'i-2'], addrs, '10.0.0.0/16')).toEqual({ peer: '10.0.0.7', instanceId: 'i-2' });
    expect(choosePeer(['i-1', 'i-2'], addrs, undefined)).toEqual({ peer: '192.168.0.9', instanceId: 'i-1' });
    expect(choosePeer(['i-3'], addrs, undefined)).toBeUndefined();
  });
});

describe('peer lookup on the AWS fake, as the instance role', () => {
  it('finds the first serving peer by id and its private address from DescribeInstances', async () => {
    const w = world();
    const r = await finder(w, '10.0.0.0/16').find();
    expect(r).toEqual({ peer: w.p1.PrivateIpAddress, instanceId: w.p1.InstanceId });
    expect(w.h.fake.calls.map((c) => c.command)).toEqual(['DescribeAutoScalingInstances', 'DescribeAutoScalingGroups', 'DescribeInstances']);
    expect(w.h.fake.calls[2]!.input).toEqual({ InstanceIds: [w.p1.InstanceId, w.p2.InstanceId] });
    expect(w.h.fake.iam!.denials).toEqual([]);
  });

  it('drops a peer that starts Terminating, then says none is left', async () => {
    const w = world();
    const f = finder(w, '10.0.0.0/16');
    expect(await f.find()).toMatchObject({ instanceId: w.p1.InstanceId });
    w.h.fake.beginTermination(w.p1);
    w.h.fake.advance(1000);
    expect(await f.find()).toEqual({ peer: w.p2.PrivateIpAddress, instanceId: w.p2.InstanceId });
    w.h.fake.beginTermination(w.p2);
    w.h.fake.advance(1000);
    expect(await f.find()).toEqual({ none: `no other InService, Healthy instance in ${ASG}` });
    // The group is looked up once; members every time.
    expect(w.h.fake.calls.filter((c) => c.command === 'DescribeAutoScalingInstances')).toHaveLength(1);
  });

  it('keeps only addresses inside the peer network', async () => {
    const w = world();
    expect(await finder(w, '192.168.0.0/16').find()).toEqual({
      none: `no serving instance in ${ASG} has a private address inside the peer network 192.168.0.0/16`,
    });
  });

  it.each([
    ['autoscaling:DescribeAutoScalingGroups', 'AccessDenied'],
    ['ec2:DescribeInstances', 'UnauthorizedOperation'],
  ])('a role without %s: the lookup fails with a line that says what to do', async (action, _code) => {
    const w = world({
      expectDenials: true,
      policy: (p) => ({
        ...p,
        Statement: p.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })),
      }),
    });
    const r = await finder(w).find();
    expect(r).toHaveProperty('failed');
    expect((r as { failed: string }).failed).toMatch(
      new RegExp(`^${action} was denied \\(.+\\): the instance role lacks ${action}; print the policy with \`sipbake iam instance\``),
    );
    expect(w.h.fake.iam!.denials.map((d) => d.action)).toEqual([action]);
  });
});

describe('the drain loop hands off to the serving peer', () => {
  function kamailio(w: ReturnType<typeof world>, script: { dialogs: number[]; transactions: number[] }) {
    const handoffs: { at: number; peer: string | undefined }[] = [];
    let polls = 0;
    const k: KamailioRpc = {
      alive: async () => true,
      processAlive: async () => true,
      setDraining: async () => {},
      setHandoff: async (peer) => {
        if (handoffs.at(-1)?.peer !== peer || handoffs.length === 0) handoffs.push({ at: w.h.fake.elapsedSeconds, peer });
      },
      activeDialogs: async () => script.dialogs[Math.min(polls, script.dialogs.length - 1)]!,
      transactions: async () => script.transactions[Math.min(polls++, script.transactions.length - 1)]!,
    };
    return { k, handoffs };
  }

  it('sets the first peer, switches when it starts leaving, and completes only after the handed-off transactions', async () => {
    const w = world();
    const log: string[] = [];
    // Polls every 5 s: calls end at poll 4; handed-off INVITEs in flight until poll 8.
    const { k, handoffs } = kamailio(w, { dialogs: [2, 2, 1, 1, 0], transactions: [1, 1, 2, 2, 1, 1, 1, 1, 0] });
    w.h.fake.beginTermination(w.self);
    const cfg = drainSchema.parse({ maxSeconds: 300, pollSeconds: 5 });
    const start = w.h.fake.elapsedSeconds;
    const run = runDrain(cfg, {
      now: w.h.fake.clock.now,
      sleep: async (ms) => {
        await w.h.fake.clock.sleep(ms);
        // The first peer starts leaving 12 s into the drain.
        if (w.h.fake.elapsedSeconds - start >= 12 && w.p1.LifecycleState === 'InService') w.h.fake.beginTermination(w.p1);
      },
      lifecycleState: async () => (w.self.LifecycleState === 'InService' ? 'InService' : 'Terminated'),
      kamailio: k,
      health: { open: async () => {}, fail: async () => {} },
      lifecycle: lifecycleHook({
        autoScaling: w.h.clients.autoScaling,
        instanceId: w.self.InstanceId,
        hookName: 'sipbake-drain',
        fallbackHeartbeatTimeoutSeconds: 60,
        log: () => {},
      }),
      peers: finder(w, '10.0.0.0/16'),
      log: (l) => log.push(l),
    });
    const report = await run;
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left' });
    // p1 at once, p2 after the re-check every 3 polls (15 s) that saw p1 Terminating, never cleared.
    expect(handoffs.map((x) => [x.at - start, x.peer])).toEqual([
      [0, w.p1.PrivateIpAddress],
      [15, w.p2.PrivateIpAddress],
    ]);
    expect(log.filter((l) => /handing new INVITEs/.test(l))).toEqual([
      `handing new INVITEs to ${w.p1.InstanceId} (${w.p1.PrivateIpAddress})`,
      `handing new INVITEs to ${w.p2.InstanceId} (${w.p2.PrivateIpAddress}) instead of ${w.p1.PrivateIpAddress}`,
    ]);
    // Dialogs were 0 at poll 4 (20 s), transactions only at poll 8 (40 s): the drain ended then.
    const complete = w.h.fake.calls.find((c) => c.command === 'CompleteLifecycleAction')!;
    expect((complete.atMs - w.h.fake.calls[0]!.atMs) / 1000).toBeGreaterThanOrEqual(40);
    expect(w.h.fake.iam!.denials).toEqual([]);
  });

  it('a role without the lookups still drains: 503 only, one line saying why', async () => {
    const w = world({
      expectDenials: true,
      policy: (p) => ({
        ...p,
        Statement: p.Statement.map((s) => ({
          ...s,
          Action: s.Action.filter((a) => a !== 'autoscaling:DescribeAutoScalingGroups'),
        })),
      }),
    });
    const log: string[] = [];
    const { k, handoffs } = kamailio(w, { dialogs: [1, 1, 1, 1, 0], transactions: [0] });
    w.h.fake.beginTermination(w.self);
    const report = await runDrain(drainSchema.parse({ maxSeconds: 300, pollSeconds: 5 }), {
      now: w.h.fake.clock.now,
      sleep: (ms) => w.h.fake.clock.sleep(ms),
      lifecycleState: async () => 'Terminated',
      kamailio: k,
      health: { open: async () => {}, fail: async () => {} },
      lifecycle: lifecycleHook({
        autoScaling: w.h.clients.autoScaling,
        instanceId: w.self.InstanceId,
        hookName: 'sipbake-drain',
        fallbackHeartbeatTimeoutSeconds: 60,
        log: () => {},
      }),
      peers: finder(w),
      log: (l) => log.push(l),
    });
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left', endedNormally: 1 });
    expect(handoffs.map((x) => x.peer)).toEqual([undefined]);
    const why = log.filter((l) => /no peer to hand/.test(l));
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(
      /autoscaling:DescribeAutoScalingGroups was denied .* the instance role lacks autoscaling:DescribeAutoScalingGroups; print the policy with `sipbake iam instance`/,
    );
  });
});
