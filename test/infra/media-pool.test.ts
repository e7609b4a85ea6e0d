// SipbakeFleet for media.address (src/infra/media-pool.ts): instances in the public subnets with a public IPv4 at
// launch, and for a pool, one tagged Elastic IP per instance the group may hold during a refresh.
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { imageSchema } from '../../src/definition/schema.js';
import { mediaPlacement } from '../../src/infra/media-pool.js';
import { fleetStack } from '../../src/infra/synth.js';

const SYNTH_TIMEOUT = 120_000; // aws-cdk-lib loads and synthesizes in seconds; the shared machine is slow

const image = (address: Record<string, unknown>) =>
  imageSchema.parse({
    name: 'recorder-lb',
    listen: { udp: 5060 },
    relay: { destination: { domain: 'sip.example.com' } },
    advertise: { source: 'elastic-ip', elasticIp: '44.199.36.104' },
    media: { rtpproxy: { enabled: true }, address },
    deploy: {
      region: 'us-east-1',
      asgName: 'kamailio-lb',
      targetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb/0123456789abcdef'],
      refresh: { minHealthyPercentage: 100, maxHealthyPercentage: 150 },
    },
  });

describe('media pool in the fleet stack', () => {
  it('sizes the pool for the refresh overlap; signalling media needs nothing', () => {
    expect(mediaPlacement(image({ source: 'elastic-ip-pool', pool: 'p' }), 4)).toEqual({ publicInstances: true, poolSize: 6, pool: 'p' });
    expect(mediaPlacement(image({ source: 'instance-public-ipv4' }), 4)).toEqual({ publicInstances: true, poolSize: 0 });
    expect(mediaPlacement(image({}), 4)).toEqual({ publicInstances: false, poolSize: 0 });
  });

  it(
    'creates tagged pool addresses and puts the instances in public subnets with a public IPv4',
    () => {
      const t = Template.fromStack(fleetStack(new App(), { image: image({ source: 'elastic-ip-pool', pool: 'recorder-media' }), maxSize: 4 }));
      const pool = Object.values(t.findResources('AWS::EC2::EIP', { Properties: { Tags: [{ Key: 'sipbake:media-pool', Value: 'recorder-media' }] } }));
      expect(pool).toHaveLength(6);
      t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: { NetworkInterfaces: [Match.objectLike({ DeviceIndex: 0, AssociatePublicIpAddress: true })] },
      });
      const group = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0] as { Properties: { VPCZoneIdentifier: { Ref: string }[] } };
      expect(group.Properties.VPCZoneIdentifier.map((r) => r.Ref).every((ref) => /public/i.test(ref))).toBe(true);
      // RTP never crosses the NLB: the deregistration delay need not cover the drain.
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
      });
    },
    SYNTH_TIMEOUT,
  );
});
