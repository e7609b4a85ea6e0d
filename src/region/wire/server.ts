// The region on the real wire protocols, so real SDK v3 clients (in this process or a child) reach it through
// their documented endpoint settings (`env()`; services.ts). One HTTP server per service, plus one shared
// endpoint (`endpoints.any`, the SDK's global `AWS_ENDPOINT_URL`) that tells the services apart by the SigV4
// credential scope's service name, as a request names it.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Region } from '../region.js';
import { dispatch, handlersOf, notModelled } from './dispatch.js';
import { closeServer, listen } from './listen.js';
import { answer, errorAnswer, parseRequest, wireErrorOf, type WireAnswer } from './protocols.js';
import { serviceBySigningName, WIRE_SERVICES, type ServiceName, type WireService } from './services.js';

type Listener = ServiceName | 'any';

export interface ServeRegionOptions {
  /** Listeners named here listen on that unix socket instead of 127.0.0.1 (the rehearsal forwards to them). */
  sockets?: Partial<Record<Listener, string>>;
  /**
   * 'real' (default): before each request the region's simulated clock is advanced by the real time elapsed
   * (whole seconds), so a child process that sleeps for real sees hook timeouts as on AWS. 'manual': the
   * caller moves the clock (region.advance) itself. A function: called before each request, to move the clock
   * (the rehearsal's link: the model's time follows this machine's at --scale).
   */
  clock?: 'real' | 'manual' | (() => void);
  /**
   * The caller's view of a successful answer, before it is encoded (default: as the region answers). The rehearsal
   * divides durations by --scale here: its agents run on this machine's clock while the model runs scaled.
   */
  view?: (service: ServiceName, action: string, out: unknown) => unknown;
}

/** One request as it crossed the wire (region.calls has the calls the region served). */
export interface WireRecord {
  service: ServiceName | undefined;
  action: string;
  /** The form parameters as sent (query protocols) or the JSON body's top-level fields. */
  params: Record<string, string>;
  status: number;
  ok: boolean;
  code?: string;
  /** Real time (Date.now()). */
  atMs: number;
}

export interface RegionServer {
  /** Per service, and `any` for all four: `http://127.0.0.1:PORT`, or the unix socket path given in `sockets`. */
  endpoints: Record<Listener, string>;
  /** Every request, with its HTTP status and error code. */
  requests: WireRecord[];
  /** What a child process needs for its SDK clients to reach this server: AWS_ENDPOINT_URL_*, AWS_REGION, keys. */
  env(): Record<string, string>;
  /** The region served now. */
  readonly region: Region;
  /** Serves another region from now on (a test per region); clears `requests`, restarts the real-time clock link. */
  use(region: Region): void;
  close(): Promise<void>;
}

const SIGV4 = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;
const refuse = (code: string, message: string, status = 400) => ({ code, message, status, fault: 'client' as const });

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}

interface Served {
  answer: WireAnswer;
  service?: ServiceName;
  action: string;
}

/** Answers one request; the region's own errors travel in the protocol's error envelope. */
async function serveOne(
  region: Region,
  listener: Listener,
  req: http.IncomingMessage,
  body: string,
  requestId: string,
  view: NonNullable<ServeRegionOptions['view']>,
): Promise<Served> {
  const signed = SIGV4.exec(String(req.headers.authorization ?? ''));
  const s: WireService | undefined = listener === 'any' ? serviceBySigningName(signed?.[2] ?? '') : WIRE_SERVICES[listener];
  const envelope = s ?? WIRE_SERVICES.autoscaling;
  // AWS refuses an unsigned request; the region of the signature is the one IAM sees as aws:RequestedRegion.
  if (!signed)
    return { answer: errorAnswer(envelope, refuse('MissingAuthenticationToken', 'Request is missing Authentication Token', 403), requestId), action: '' };
  if (!s) return { answer: errorAnswer(envelope, refuse('UnknownService', `the region model does not serve ${signed[2]}`), requestId), action: '' };
  let parsed;
  try {
    parsed = parseRequest(s, req.headers, body);
  } catch (e) {
    return { answer: errorAnswer(s, refuse('MalformedQueryString', (e as Error).message), requestId), service: s.name, action: '' };
  }
  const done = (answer: WireAnswer): Served => ({ answer, service: s.name, action: parsed.action });
  if (!parsed.op) return done(errorAnswer(s, refuse('InvalidAction', `The action ${parsed.action} is not valid for this web service.`), requestId));
  try {
    if (!handlersOf(region, s.name)[parsed.action]) throw notModelled(s.name, parsed.action);
    const out = await dispatch(region, { service: s.name, command: parsed.action, input: parsed.input, signedRegion: signed[1] ?? '' });
    return done(answer(s, parsed, view(s.name, parsed.action, out), requestId));
  } catch (e) {
    return done(errorAnswer(s, wireErrorOf(e), requestId));
  }
}

function paramsOf(body: string): Record<string, string> {
  if (body.startsWith('{')) {
    const o = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  return Object.fromEntries(new URLSearchParams(body));
}

export async function serveRegion(initial: Region, opts: ServeRegionOptions = {}): Promise<RegionServer> {
  let region = initial;
  let realMs = Date.now();
  const requests: WireRecord[] = [];
  const { clock, view = (_s: ServiceName, _a: string, out: unknown): unknown => out } = opts;
  const follow = () => {
    if (typeof clock === 'function') return clock();
    if (clock === 'manual') return;
    const elapsed = Math.floor((Date.now() - realMs) / 1000) * 1000;
    realMs += elapsed;
    if (elapsed > 0) region.advance(elapsed);
  };
  const handle = (listener: Listener) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    void readBody(req).then(async (body) => {
      follow();
      const requestId = randomUUID();
      const { answer: a, service, action } = await serveOne(region, listener, req, body, requestId, view);
      const code = a.status === 200 ? undefined : (/<Code>([^<]*)<\/Code>/.exec(a.body)?.[1] ?? a.headers['x-amzn-query-error']?.split(';')[0]);
      let params: Record<string, string> = {};
      try {
        params = paramsOf(body);
      } catch {
        // Not a body we could read: the answer already says so.
      }
      requests.push({ service, action, params, status: a.status, ok: a.status === 200, ...(code ? { code } : {}), atMs: Date.now() });
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  };
  const servers: http.Server[] = [];
  const endpoints = {} as Record<Listener, string>;
  for (const l of [...(Object.keys(WIRE_SERVICES) as ServiceName[]), 'any'] as const) {
    const server = http.createServer(handle(l));
    servers.push(server);
    endpoints[l] = await listen(server, opts.sockets?.[l]);
  }
  return {
    endpoints,
    requests,
    env: () => ({
      ...Object.fromEntries(Object.values(WIRE_SERVICES).map((s) => [s.env, endpoints[s.name]])),
      AWS_REGION: region.opts.region,
      AWS_ACCESS_KEY_ID: 'REGIONMODEL',
      AWS_SECRET_ACCESS_KEY: 'region-model-secret',
    }),
    get region() {
      return region;
    },
    use(r) {
      region = r;
      realMs = Date.now();
      requests.length = 0;
    },
    close: async () => {
      for (const s of servers) await closeServer(s);
    },
  };
}
