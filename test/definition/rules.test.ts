import { partitionOf } from '../../src/definition/partition.js';
import { describe, expect, it } from 'vitest';
import { checkRules, isLoopbackHost, parseControlSocket } from '../../src/definition/rules.js';
import { imageSchema } from '../../src/definition/schema.js';

// The rules are pure: they take a schema-valid definition and return issues with field paths.
const image = (over: Record<string, unknown>) =>
  imageSchema.parse({
    name: 'img',
    listen: { udp: 5060 },
    relay: { destination: { domain: 'sip.example.com' } },
    ...over,
  });

describe('cross-field rules', () => {
  it('pass a plain relay', () => {
    expect(checkRules(image({}), { fileName: 'img' })).toEqual([]);
  });

  it('accept keepalive probes whose total detection time exceeds the NLB timeout (each probe resets it)', () => {
    expect(checkRules(image({ tcp: { keepaliveIdle: 300, keepaliveInterval: 30, keepaliveCount: 5 } }))).toEqual([]);
    expect(checkRules(image({ tcp: { keepaliveInterval: 400 } })).map((i) => i.path.join('.'))).toEqual(['tcp.keepaliveInterval']);
  });

  it('do not check RTP sockets while RTPProxy is off', () => {
    expect(checkRules(image({ listen: { udp: 25000 } }))).toEqual([]);
  });

  it('accept weights that sum to 100 under algorithm 9', () => {
    const d = {
      setId: 1,
      algorithm: 9,
      destinations: [
        { host: 'a', transport: 'udp', attrs: { weight: 60 } },
        { host: 'b', transport: 'udp', attrs: { weight: 40 } },
      ],
    };
    expect(checkRules(image({ relay: undefined, dispatcher: d }))).toEqual([]);
  });

  it('need a duid on every destination under algorithm 10', () => {
    const d = {
      algorithm: 10,
      destinations: [
        { host: 'a', transport: 'udp', attrs: { duid: 'a', maxload: 20 } },
        { host: 'b', transport: 'udp' },
      ],
    };
    expect(checkRules(image({ relay: undefined, dispatcher: d })).map((i) => [i.path.join('.'), i.message])).toEqual([
      ['dispatcher.destinations.1', 'algorithm 10 (call load) needs attrs.duid on every destination, and this one has none'],
    ]);
  });

  it('reject a health deadline shorter than the warm-up', () => {
    const deploy = {
      region: 'us-east-1',
      asgName: 'a',
      targetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef'],
      healthyDeadlineSeconds: 60,
    };
    expect(checkRules(image({ deploy })).map((i) => i.path.join('.'))).toEqual(['deploy.healthyDeadlineSeconds']);
  });
});

describe('control socket parsing', () => {
  it.each([
    ['udp:127.0.0.1:7722', { kind: 'udp', host: '127.0.0.1', port: 7722 }],
    ['udp6:[::1]:7722', { kind: 'udp', host: '::1', port: 7722 }],
    ['udp:*:7722', { kind: 'udp', host: '*', port: 7722 }],
    ['unix:/run/rtpproxy.sock', { kind: 'unix' }],
  ] as const)('%s', (s, want) => {
    expect(parseControlSocket(s)).toEqual(want);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['*', false],
    ['0.0.0.0', false],
    ['10.0.0.5', false],
  ] as const)('%s is loopback: %s', (h, want) => {
    expect(isLoopbackHost(h)).toBe(want);
  });
});

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-1', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
  ] as const)('%s is in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });
});
