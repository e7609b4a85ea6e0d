import http from 'node:http';
import type { AddressInfo } from 'node:net';

// The Auto Scaling API on 127.0.0.1 for a child process (the bundled drain agent), in its real wire
// protocol (awsQuery: form-encoded POST, XML answers), so the agent's SDK client talks to it unchanged.
// In-process tests use the shared stateful fake in test/fakes/aws/ instead; this one models only what an
// instance's drain agent calls:
// - DescribeAutoScalingInstances(InstanceIds) → the instance's group and lifecycle state.
// - DescribeLifecycleHooks(AutoScalingGroupName, LifecycleHookNames) → the group's hooks.
// - RecordLifecycleActionHeartbeat / CompleteLifecycleAction: need the instance in Terminating:Wait and
//   a hook of that name on its group, else 400 ValidationError ("No active Lifecycle Action found").
//   Complete moves the instance to Terminating:Proceed.
// Requests without a SigV4 Authorization header are refused. Every call is recorded with its time.

export interface AsgCall {
  action: string;
  params: Record<string, string>;
  atMs: number;
  ok: boolean;
}

export interface AsgInstance {
  asg: string;
  state: string;
}

export interface AutoScalingHttpFake {
  endpoint: string;
  instances: Map<string, AsgInstance>;
  hooks: Map<string, { name: string; heartbeatTimeout: number }[]>;
  calls: AsgCall[];
  close(): Promise<void>;
}

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ok(action: string, result: string): string {
  return `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></${action}Response>`;
}
function fault(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>`;
}

export async function startAutoScalingHttpFake(): Promise<AutoScalingHttpFake> {
  const instances = new Map<string, AsgInstance>();
  const hooks = new Map<string, { name: string; heartbeatTimeout: number }[]>();
  const calls: AsgCall[] = [];
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
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) return send(403, fault('MissingAuthenticationToken', 'unsigned request'));
      const activeAction = () => {
        const i = instances.get(params.InstanceId ?? '');
        const hookOk = i && i.asg === params.AutoScalingGroupName && (hooks.get(i.asg) ?? []).some((h) => h.name === params.LifecycleHookName);
        return i && hookOk && i.state === 'Terminating:Wait' ? i : undefined;
      };
      switch (action) {
        case 'DescribeAutoScalingInstances': {
          const ids = Object.entries(params).filter(([k]) => k.startsWith('InstanceIds.member.')).map(([, v]) => v);
          const members = ids
            .map((id) => [id, instances.get(id)] as const)
            .filter((x): x is readonly [string, AsgInstance] => x[1] !== undefined)
            .map(
              ([id, i]) =>
                `<member><InstanceId>${esc(id)}</InstanceId><AutoScalingGroupName>${esc(i.asg)}</AutoScalingGroupName><AvailabilityZone>us-east-1a</AvailabilityZone><LifecycleState>${esc(i.state)}</LifecycleState><HealthStatus>HEALTHY</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
            );
          return send(200, ok(action, `<AutoScalingInstances>${members.join('')}</AutoScalingInstances>`));
        }
        case 'DescribeLifecycleHooks': {
          const asg = params.AutoScalingGroupName ?? '';
          const names = Object.entries(params).filter(([k]) => k.startsWith('LifecycleHookNames.member.')).map(([, v]) => v);
          const members = (hooks.get(asg) ?? [])
            .filter((h) => names.length === 0 || names.includes(h.name))
            .map(
              (h) =>
                `<member><LifecycleHookName>${esc(h.name)}</LifecycleHookName><AutoScalingGroupName>${esc(asg)}</AutoScalingGroupName><LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition><HeartbeatTimeout>${h.heartbeatTimeout}</HeartbeatTimeout><GlobalTimeout>${h.heartbeatTimeout * 100}</GlobalTimeout><DefaultResult>CONTINUE</DefaultResult></member>`,
            );
          return send(200, ok(action, `<LifecycleHooks>${members.join('')}</LifecycleHooks>`));
        }
        case 'RecordLifecycleActionHeartbeat':
        case 'CompleteLifecycleAction': {
          const i = activeAction();
          if (!i) return send(400, fault('ValidationError', `No active Lifecycle Action found with instance ID ${params.InstanceId ?? ''}`));
          if (action === 'CompleteLifecycleAction') i.state = 'Terminating:Proceed';
          return send(200, ok(action, ''));
        }
        default:
          return send(400, fault('InvalidAction', `the fake does not model ${action}`));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    instances,
    hooks,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
