import http from 'node:http';
import type { AddressInfo } from 'node:net';

// SSM Parameter Store and Secrets Manager on 127.0.0.1, speaking their real wire protocol
// (awsJson1_1: POST /, X-Amz-Target, JSON body) so the agent's real SDK v3 clients talk to it.
// - AmazonSSM.GetParameter {Name, WithDecryption} → {Parameter:{Name,Type,Value,Version}};
//   a missing name → 400 ParameterNotFound. A SecureString without WithDecryption returns ciphertext.
// - secretsmanager.GetSecretValue {SecretId} → {Name, SecretString, VersionId};
//   a missing id → 400 ResourceNotFoundException.
// - A request without a SigV4 Authorization header → 400 MissingAuthenticationTokenException.
// Every request is recorded (target, body, signed, the signing access key id and session token).
// `failNext(n)` answers the next n requests with 500 InternalServerError (the SDK retries those).

interface SecretsRequest {
  target: string;
  body: Record<string, unknown>;
  signed: boolean;
  /** The access key id in the SigV4 Credential= scope, and the X-Amz-Security-Token (instance-role keys carry one). */
  accessKeyId?: string;
  sessionToken?: string;
}

export interface SecretsFake {
  endpoint: string;
  parameters: Map<string, { value: string; secure: boolean }>;
  secrets: Map<string, string>;
  requests: SecretsRequest[];
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startSecretsFake(): Promise<SecretsFake> {
  const parameters = new Map<string, { value: string; secure: boolean }>();
  const secrets = new Map<string, string>();
  const requests: SecretsRequest[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        /* answered below as a bad request */
      }
      const signed = /^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''));
      const akid = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const tok = req.headers['x-amz-security-token'];
      requests.push({
        target,
        body,
        signed,
        ...(akid ? { accessKeyId: akid } : {}),
        ...(typeof tok === 'string' ? { sessionToken: tok } : {}),
      });
      const send = (status: number, doc: object, errorType?: string) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(JSON.stringify(doc));
      };
      const error = (type: string, message: string) => send(400, { __type: type, message }, type);
      if (failures > 0) {
        failures--;
        return send(500, { __type: 'InternalServerError', message: 'injected failure' }, 'InternalServerError');
      }
      if (!signed) return error('MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (target === 'AmazonSSM.GetParameter') {
        const name = typeof body.Name === 'string' ? body.Name : '';
        const p = parameters.get(name);
        if (!p) return error('ParameterNotFound', `Parameter ${name} not found.`);
        const value = p.secure && body.WithDecryption !== true ? `AQICAHh-ciphertext-${Buffer.from(p.value).toString('base64')}` : p.value;
        return send(200, {
          Parameter: {
            Name: name,
            Type: p.secure ? 'SecureString' : 'String',
            Value: value,
            Version: 1,
            DataType: 'text',
          },
        });
      }
      if (target === 'secretsmanager.GetSecretValue') {
        const id = typeof body.SecretId === 'string' ? body.SecretId : '';
        const s = secrets.get(id);
        if (s === undefined) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        return send(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
          Name: id,
          SecretString: s,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
        });
      }
      return error('UnknownOperationException', `unknown target ${target}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    parameters,
    secrets,
    requests,
    failNext(n) {
      failures += n;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
