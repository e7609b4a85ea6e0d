// The roll engine's four SDK v3 clients during a rehearsal: built as `sipbake roll` builds them (src/aws/clients.ts:
// adaptive retry, 8 attempts), aimed at the region model's wire server (src/region/wire/: awsQuery, ec2Query,
// awsJson1_0), so every call crosses the real protocols, signed, as it would to AWS. Each client gets its service's
// endpoint as the SDK's `endpoint` setting (what AWS_ENDPOINT_URL_<SERVICE> sets: the server's env() names them),
// so the rehearsal never changes process.env; static keys keep the credential chain off IMDS and profiles.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientConfig, type AwsClients } from '../aws/clients.js';
import type { Region } from '../region/region.js';
import { serveRegion, type RegionServer } from '../region/wire/server.js';

export interface WireClients {
  clients: AwsClients;
  server: RegionServer;
  close(): Promise<void>;
}

/** Serves region on 127.0.0.1 (its time is moved by the rehearsal's clock link) and builds clients aimed at it. */
export async function wireClients(region: Region): Promise<WireClients> {
  const server = await serveRegion(region, { clock: 'manual' });
  const env = server.env();
  const base = {
    ...clientConfig({ region: region.opts.region, env: {} }),
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'REHEARSAL', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'REHEARSAL' },
  };
  const at = (name: string): string => {
    const url = env[name];
    if (url === undefined) throw new Error(`rehearsal: the region's wire server names no ${name}`);
    return url;
  };
  const clients: AwsClients = {
    autoScaling: new AutoScalingClient({ ...base, endpoint: at('AWS_ENDPOINT_URL_AUTO_SCALING') }),
    ec2: new EC2Client({ ...base, endpoint: at('AWS_ENDPOINT_URL_EC2') }),
    elbv2: new ElasticLoadBalancingV2Client({ ...base, endpoint: at('AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2') }),
    cloudwatch: new CloudWatchClient({ ...base, endpoint: at('AWS_ENDPOINT_URL_CLOUDWATCH') }),
  };
  return {
    clients,
    server,
    close: async () => {
      clients.autoScaling.destroy();
      clients.ec2.destroy();
      clients.elbv2.destroy();
      clients.cloudwatch.destroy();
      await server.close();
    },
  };
}
