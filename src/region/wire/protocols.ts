// Framing of each wire protocol: how a request names its action and carries its input, and how an answer or an
// error is enveloped.
// - awsQuery (Auto Scaling, ELBv2): form POST `Action=…&Version=…`; `<ActionResponse><ActionResult>…` and
//   `<ErrorResponse><Error><Type/><Code/><Message/></Error>` ("Query API request", "Error responses" in each API
//   reference; the SDK's AwsQueryProtocol reads exactly these).
// - EC2 Query: the same form POST; `<ActionResponse><requestId/>…` without a Result wrapper and
//   `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>` ("Error codes", EC2 API reference).
// - awsJson1_0 (CloudWatch in SDK 3.116x): `X-Amz-Target: GraniteServiceVersion20100801.Action`, a JSON body;
//   errors as `{"__type": …}` with `x-amzn-query-error: Code;Sender` because CloudWatch is awsQueryCompatible.
import { decodeQuery, encodeXml, escapeXml } from './schema-codec.js';
import { operationOf, type OperationSchema, type WireService } from './services.js';

export interface WireRequest {
  action: string;
  op?: OperationSchema;
  input: Record<string, unknown>;
}

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function parseRequest(s: WireService, headers: Record<string, string | string[] | undefined>, body: string): WireRequest {
  if (s.protocol === 'json1_0') {
    const target = String(headers['x-amz-target'] ?? '');
    const action = target.startsWith(`${s.target}.`) ? target.slice(s.target.length + 1) : '';
    const op = operationOf(s, action);
    return { action, op, input: body ? (JSON.parse(body) as Record<string, unknown>) : {} };
  }
  const params = new Map(new URLSearchParams(body));
  const action = params.get('Action') ?? '';
  params.delete('Action');
  params.delete('Version');
  const op = operationOf(s, action);
  const input = op ? (decodeQuery(op[4](), params, s.protocol === 'ec2') as Record<string, unknown>) : {};
  return { action, op, input };
}

/** JSON protocols carry timestamps as epoch seconds (the replacer sees the Date before its toJSON ran). */
function jsonOf(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    const original = this[k];
    return original instanceof Date ? original.getTime() / 1000 : x;
  });
}

export function answer(s: WireService, req: WireRequest, output: unknown, requestId: string): WireAnswer {
  const op = req.op;
  if (!op) throw new Error(`wire: no operation schema for ${req.action}`);
  if (s.protocol === 'json1_0')
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId }, body: jsonOf(output ?? {}) };
  const members = encodeXml(op[5](), output ?? {});
  const a = req.action;
  const body =
    s.protocol === 'ec2'
      ? `<?xml version="1.0" encoding="UTF-8"?><${a}Response xmlns="${s.xmlns}"><requestId>${requestId}</requestId>${members}</${a}Response>`
      : `<${a}Response xmlns="${s.xmlns}"><${a}Result>${members}</${a}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${a}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

export interface WireError {
  code: string;
  message: string;
  status: number;
  fault: 'client' | 'server';
}

/** An error thrown by the region (awsError) or by anything else (a 500 InternalFailure). */
export function wireErrorOf(e: unknown): WireError {
  const err = e as Error & { $fault?: 'client' | 'server'; $metadata?: { httpStatusCode?: number } };
  const known = err?.$metadata?.httpStatusCode !== undefined;
  const status = err?.$metadata?.httpStatusCode ?? 500;
  return {
    code: known ? err.name : 'InternalFailure',
    message: err?.message ?? String(e),
    status,
    fault: err?.$fault ?? (status >= 500 ? 'server' : 'client'),
  };
}

export function errorAnswer(s: WireService, e: WireError, requestId: string): WireAnswer {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  if (s.protocol === 'json1_0')
    return {
      status: e.status,
      headers: { ...headers, 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${e.code};${e.fault === 'server' ? 'Receiver' : 'Sender'}` },
      body: JSON.stringify({ __type: `${s.namespace}#${e.code}`, message: e.message }),
    };
  const code = escapeXml(e.code);
  const msg = escapeXml(e.message);
  const body =
    s.protocol === 'ec2'
      ? `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${msg}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
      : `<ErrorResponse xmlns="${s.xmlns}"><Error><Type>${e.fault === 'server' ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${msg}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: e.status, headers: { ...headers, 'content-type': 'text/xml' }, body };
}
