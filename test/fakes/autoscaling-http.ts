import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeAws } from './aws/fake-aws.js';
import { asgHandlers } from '../../src/region/handlers-asg.js';
import { ec2Handlers } from '../../src/region/handlers-ec2.js';

// The Auto Scaling API on 127.0.0.1 for a child process (the bundled drain agent), in its real wire
// protocol (awsQuery: form-encoded POST, XML answers), so the agent's SDK client talks to it unchanged.
// It is a wire front for the shared stateful fake (test/fakes/aws/, README.md there): the same state, the same
// handlers and errors, the same call log (`fake.calls`) and faults. It serves only what an instance's drain
// agent calls: DescribeAutoScalingInstances, DescribeLifecycleHooks, RecordLifecycleActionHeartbeat,
// CompleteLifecycleAction, DescribeAutoScalingGroups, and (point SIPBAKE_EC2_ENDPOINT here too) EC2's
// DescribeInstances in EC2's own query protocol (`InstanceId.N` lists; lowerCamel XML, `item` lists; errors
// as Response/Errors/Error; EC2 API reference, "Query requests" and "Error codes"). The fake's simulated clock follows real time from the start (a child process
// sleeps for real), so hook timeouts and heartbeats behave as in AWS. Requests without a SigV4 Authorization
// header are refused. `calls` also records every request with its real time and whether it succeeded.

interface AsgCall {
  action: string;
  params: Record<string, string>;
  atMs: number;
  ok: boolean;
}

export interface AutoScalingHttpFake {
  endpoint: string;
  /** The fake behind it (replace it per test with use()). */
  readonly fake: FakeAws;
  calls: AsgCall[];
  /** Serves another fake from now on; clears `calls` and restarts the real-time clock link. */
  use(fake: FakeAws): void;
  close(): Promise<void>;
}

const SERVED = [
  'DescribeAutoScalingInstances',
  'DescribeLifecycleHooks',
  'RecordLifecycleActionHeartbeat',
  'CompleteLifecycleAction',
  'DescribeAutoScalingGroups',
];
const EC2_SERVED = ['DescribeInstances'];
const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** EC2 query input: `InstanceId.1=…` → `{ InstanceIds: […] }` (the only list DescribeInstances needs here). */
function ec2InputOf(params: Record<string, string>): Record<string, unknown> {
  const ids = Object.entries(params)
    .flatMap(([k, v]) => {
      const m = /^InstanceId\.(\d+)$/.exec(k);
      return m ? [[Number(m[1]), v] as const] : [];
    })
    .sort((a, b) => a[0] - b[0])
    .map(([, v]) => v);
  return ids.length ? { InstanceIds: ids } : {};
}

interface Ec2Instance {
  InstanceId: string;
  ImageId?: string;
  State?: { Name?: string };
  PrivateIpAddress?: string;
}

function ec2DescribeInstancesXml(out: { Reservations: { Instances: Ec2Instance[] }[] }): string {
  const codes: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
  const inst = (i: Ec2Instance) =>
    `<item><instanceId>${esc(i.InstanceId)}</instanceId>${i.ImageId ? `<imageId>${esc(i.ImageId)}</imageId>` : ''}` +
    `<instanceState><code>${codes[i.State?.Name ?? 'running'] ?? 16}</code><name>${esc(i.State?.Name ?? 'running')}</name></instanceState>` +
    `${i.PrivateIpAddress ? `<privateIpAddress>${esc(i.PrivateIpAddress)}</privateIpAddress>` : ''}</item>`;
  const res = out.Reservations.map(
    (r, n) => `<item><reservationId>r-${n}</reservationId><instancesSet>${r.Instances.map(inst).join('')}</instancesSet></item>`,
  );
  return `<DescribeInstancesResponse xmlns="${EC2_NS}"><requestId>fake-1</requestId><reservationSet>${res.join('')}</reservationSet></DescribeInstancesResponse>`;
}
function ec2Fault(code: string, message: string): string {
  return `<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>fake-1</RequestID></Response>`;
}
const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** awsQuery input: `InstanceIds.member.1=…` → `{ InstanceIds: […] }` (flat names and member lists only). */
function inputOf(params: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Action' || k === 'Version') continue;
    const m = /^(\w+)\.member\.(\d+)$/.exec(k);
    if (m) ((input[m[1]!] ??= []) as string[])[Number(m[2]) - 1] = v;
    else input[k] = v;
  }
  return input;
}

/** awsQuery output: objects as elements, arrays as <member> lists. */
function xmlOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => `<member>${xmlOf(x)}</member>`).join('');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `<${k}>${xmlOf(x)}</${k}>`)
      .join('');
  return esc(typeof v === 'string' ? v : JSON.stringify(v));
}

function ok(action: string, result: unknown): string {
  return `<${action}Response xmlns="${NS}"><${action}Result>${xmlOf(result)}</${action}Result><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></${action}Response>`;
}
function fault(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>`;
}

export async function startAutoScalingHttpFake(fake: FakeAws = new FakeAws()): Promise<AutoScalingHttpFake> {
  let handlers = asgHandlers(fake);
  const calls: AsgCall[] = [];
  let realMs = Date.now();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(raw));
      const action = params.Action ?? '';
      const send = (status: number, xml: string) => {
        calls.push({ action, params, atMs: Date.now(), ok: status === 200 });
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(xml);
      };
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? '')))
        return send(403, fault('MissingAuthenticationToken', 'unsigned request'));
      const ec2 = EC2_SERVED.includes(action);
      if (!SERVED.includes(action) && !ec2) return send(400, fault('InvalidAction', `the fake does not serve ${action} over HTTP`));
      // Simulated time follows real time, whole seconds at a time.
      const elapsed = Math.floor((Date.now() - realMs) / 1000) * 1000;
      realMs += elapsed;
      fake.advance(elapsed);
      if (ec2) {
        const input = ec2InputOf(params);
        fake.calls.push({ service: 'ec2', command: action, input: structuredClone(input), atMs: fake.nowMs });
        try {
          fake.faults.check(action, fake.nowMs);
          return send(200, ec2DescribeInstancesXml(ec2Handlers(fake).DescribeInstances!(input) as never));
        } catch (e) {
          const err = e as Error & { $metadata?: { httpStatusCode?: number } };
          return send(err.$metadata?.httpStatusCode ?? 400, ec2Fault(err.name, err.message));
        }
      }
      const input = inputOf(params);
      fake.calls.push({ service: 'autoscaling', command: action, input: structuredClone(input), atMs: fake.nowMs });
      try {
        fake.faults.check(action, fake.nowMs);
        return send(200, ok(action, handlers[action]!(input)));
      } catch (e) {
        const err = e as Error & { $metadata?: { httpStatusCode?: number } };
        return send(err.$metadata?.httpStatusCode ?? 400, fault(err.name, err.message));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get fake() {
      return fake;
    },
    calls,
    use(f: FakeAws) {
      fake = f;
      handlers = asgHandlers(f);
      realMs = Date.now();
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
