import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssue, loadImage, type DefinitionIssue } from '../../src/definition/load.js';
import { renderImage } from '../../src/render/index.js';
import { UserError } from '../../src/core/errors.js';
import { DISPATCHER, RELAY, testdir } from './testdir.js';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

// The bad-definition corpus: each definition is written to images/img.yaml in a fresh directory and
// must report the right file, line, column and field, in plain words, and render must leave nothing.

interface Case {
  yaml: string;
  line: number;
  col?: number; // omitted only where two checks may report the list or its element
  path: string;
  says: string; // a fragment of the formatted line (message and/or fix)
  hides?: string; // a secret value that must not be echoed
}

const deploy = (refresh: string) => `deploy:
  region: us-east-1
  asgName: asg
  targetGroupArns: [arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123]
  refresh:
${refresh}`;
const weighted = (algorithm: number, a0: string, a1: string) => `name: img
listen:
  udp: 5080
dispatcher:
  algorithm: ${algorithm}
  destinations:
    - { host: 10.0.0.3, transport: udp, attrs: { ${a0} } }
    - { host: 10.0.0.4, transport: udp${a1 ? `, attrs: { ${a1} }` : ''} }
`;
const relayWith = (listen: string, extra = '') => RELAY.replace('  udp: 5060\n', listen) + extra;

const cases: Record<string, Case> = {
  // wrong types and values
  'port out of range': {
    yaml: RELAY.replace('udp: 5060', 'udp: 99999'),
    line: 3,
    col: 8,
    path: 'listen.udp',
    says: 'must be an integer from 1 to 65535 (got 99999); use a port number from 1 to 65535',
  },
  'quoted number': {
    yaml: RELAY + 'tcp:\n  maxConnections: "2048"\n',
    line: 7,
    col: 19,
    path: 'tcp.maxConnections',
    says: 'not a quoted string (got "2048"); remove the quotes',
  },
  'yes is not a boolean': {
    yaml: RELAY + '  recordRoute: yes\n',
    line: 6,
    col: 16,
    path: 'relay.recordRoute',
    says: 'must be true or false',
  },
  'enum typo': {
    yaml: RELAY.replace('sip.example.com }', 'sip.example.com, transport: tpc }'),
    line: 5,
    col: 54,
    path: 'relay.destination.transport',
    says: `must be one of 'udp', 'tcp' or 'tls' (got "tpc"); did you mean 'tcp'?`,
  },
  'scalar for a mapping': {
    yaml: RELAY + 'tcp: 2048\n',
    line: 6,
    col: 6,
    path: 'tcp',
    says: 'must be a mapping of fields (got 2048)',
  },
  'scalar for a list': {
    yaml: RELAY + '  allowedSources: 10.0.0.0/8\n',
    line: 6,
    col: 19,
    path: 'relay.allowedSources',
    says: 'must be a list (got "10.0.0.0/8")',
  },
  'bad CIDR in a list': {
    yaml: RELAY + '  allowedSources: [10.0.0.0/33]\n',
    line: 6,
    col: 20,
    path: 'relay.allowedSources.0',
    says: 'must be an IPv4 CIDR such as 54.172.60.0/30 (got "10.0.0.0/33")',
  },
  'fraction for an integer': {
    yaml: RELAY + 'memory:\n  children: 2.5\n',
    line: 7,
    col: 13,
    path: 'memory.children',
    says: 'must be an integer from 1 to 64 (got 2.5)',
  },
  'backend type typo': {
    yaml: DISPATCHER + '  backend: { type: postgress }\n',
    line: 8,
    col: 20,
    path: 'dispatcher.backend.type',
    says: `(got "postgress"); did you mean 'postgres'?`,
  },
  'drain.maxSeconds zero': {
    yaml: RELAY + 'drain:\n  maxSeconds: 0\n',
    line: 7,
    col: 15,
    path: 'drain.maxSeconds',
    says: 'must be an integer from 1 to 7200 (got 0)',
  },
  'empty value': {
    yaml: RELAY.replace('udp: 5060', 'udp:'),
    line: 3,
    col: 3,
    path: 'listen.udp',
    says: 'is empty; it must be an integer from 1 to 65535',
  },
  // unknown keys
  'unknown key with did-you-mean': {
    yaml: relayWith('  udp: 5060\n  tpc: 5060\n'),
    line: 4,
    col: 3,
    path: 'listen.tpc',
    says: `listen.tpc: unknown field 'tpc'; did you mean 'tcp'?`,
  },
  'unknown top-level key': {
    yaml: RELAY + 'antiflod:\n  enabled: true\n',
    line: 6,
    col: 1,
    path: 'antiflod',
    says: `unknown field 'antiflod'; did you mean 'antiflood'?`,
  },
  'drain.lifecycleHookName moved to deploy.lifecycleHook.name': {
    yaml: RELAY + 'drain:\n  lifecycleHookName: calls-drain\n',
    line: 7,
    col: 3,
    path: 'drain.lifecycleHookName',
    says: `drain.lifecycleHookName: 'lifecycleHookName' moved to deploy.lifecycleHook.name; write the name as deploy.lifecycleHook.name`,
  },
  'unknown key, nothing close': {
    yaml: RELAY + 'diagnostics:\n  colour: red\n',
    line: 7,
    col: 3,
    path: 'diagnostics.colour',
    says: 'the fields allowed in diagnostics are jsonrpc, debugger',
  },
  'literal secret as unknown key': {
    yaml: DISPATCHER + '  backend:\n    type: file\n    password: hunter2\n',
    line: 10,
    col: 5,
    path: 'dispatcher.backend.password',
    says: 'looks like a literal secret',
    hides: 'hunter2',
  },
  // missing required fields: positioned at the parent
  'missing name': {
    yaml: RELAY.replace('name: img\n', ''),
    line: 1,
    col: 1,
    path: 'name',
    says: `required field 'name' is missing; add 'name:' at the top level`,
  },
  'missing relay domain': {
    yaml: RELAY.replace('{ domain: sip.example.com }', '{ port: 5060 }'),
    line: 5,
    col: 3,
    path: 'relay.destination.domain',
    says: `required field 'domain' is missing; add 'domain:' under relay.destination`,
  },
  'missing destination host': {
    yaml: DISPATCHER.replace('{ host: 10.0.0.4,', '{ port: 5080,'),
    line: 7,
    col: 7,
    path: 'dispatcher.destinations.1.host',
    says: `required field 'host' is missing`,
  },
  'missing postgres password': {
    yaml: DISPATCHER + '  backend: { type: postgres, host: db.example.com }\n',
    line: 8,
    col: 3,
    path: 'dispatcher.backend.password',
    says: `required field 'password' is missing`,
  },
  // secrets
  'literal postgres password': {
    yaml: DISPATCHER + '  backend: { type: postgres, host: db.example.com, password: hunter2 }\n',
    line: 8,
    col: 62,
    path: 'dispatcher.backend.password',
    says: 'must be a secret reference, not a literal secret',
    hides: 'hunter2',
  },
  'password inside a URI': {
    yaml: DISPATCHER + '  probing: { from: "sip:ping:s3cret@example.com" }\n',
    line: 8,
    col: 20,
    path: 'dispatcher.probing.from',
    says: 'carries a password inside the URI',
    hides: 's3cret',
  },
  // YAML itself
  'unclosed flow mapping': {
    yaml: RELAY + 'tcp: { maxConnections: 10\n',
    line: 6,
    col: 6,
    path: '', // a file that does not parse has no field paths (issue 23: they came out garbled)
    says: 'YAML syntax error: the flow mapping opened with { here is not closed by }',
  },
  'unclosed quote': {
    yaml: RELAY + 'description: "relay\n',
    line: 6,
    col: 14,
    path: '',
    says: 'the quoted string that starts here is never closed',
  },
  'tab indentation': {
    yaml: RELAY + 'tcp:\n\tmaxConnections: 10\n',
    line: 7,
    col: 1,
    path: '',
    says: 'YAML syntax error: Tabs are not allowed as indentation',
  },
  'duplicate key': {
    yaml: relayWith('  udp: 5060\n  udp: 5062\n'),
    line: 4,
    col: 3,
    path: 'listen.udp',
    says: `duplicate key 'udp'`,
  },
  'empty file': { yaml: '# nothing here\n', line: 1, col: 1, path: '', says: 'the file is empty' },
  'name differs from the file name': {
    yaml: RELAY.replace('name: img', 'name: other'),
    line: 1,
    col: 7,
    path: 'name',
    says: `must equal the file name 'img' (got "other"); set name: img, or rename the file to images/other.yaml`,
  },
  // cross-field rules
  'relay and dispatcher': {
    yaml: RELAY + 'dispatcher:\n  destinations:\n    - { host: 10.0.0.3, transport: udp }\n',
    line: 6,
    col: 1,
    path: 'dispatcher',
    says: 'has both relay: and dispatcher:',
  },
  'neither relay nor dispatcher': {
    yaml: 'name: img\nlisten:\n  udp: 5060\n',
    line: 1,
    col: 1,
    path: '',
    says: '(root): has neither relay: nor dispatcher:',
  },
  'no listener': {
    yaml: RELAY.replace('listen:\n  udp: 5060\n', 'listen: {}\n'),
    line: 2,
    col: 1,
    path: 'listen',
    says: 'has no listener',
  },
  'listen.tls without tls.enabled': {
    yaml: relayWith('  udp: 5060\n  tls: 5061\n'),
    line: 4,
    col: 8,
    path: 'listen.tls',
    says: 'set tls.enabled: true',
  },
  'tls.enabled without listen.tls': {
    yaml: RELAY + 'tls:\n  enabled: true\n',
    line: 7,
    col: 12,
    path: 'tls.enabled',
    says: 'TLS is on but nothing listens for it',
  },
  'tls.maxConnections above tcp': {
    yaml: relayWith('  udp: 5060\n  tls: 5061\n', 'tls:\n  enabled: true\n  maxConnections: 4096\n'),
    line: 9,
    col: 19,
    path: 'tls.maxConnections',
    says: 'must not exceed tcp.maxConnections (2048)',
  },
  'keepalive idle at the NLB timeout': {
    yaml: RELAY + 'tcp:\n  keepaliveIdle: 350\n',
    line: 7,
    col: 18,
    path: 'tcp.keepaliveIdle',
    says: "below the NLB's fixed 350 s idle timeout",
  },
  'RTP range upside down': {
    yaml: RELAY + 'media:\n  rtpproxy:\n    rtpPorts: { min: 30000, max: 20000 }\n',
    line: 8,
    col: 22,
    path: 'media.rtpproxy.rtpPorts.min',
    says: 'must be below rtpPorts.max (20000)',
  },
  'tcp and tls on one port': {
    yaml: relayWith('  udp: 5060\n  tcp: 5061\n  tls: 5061\n', 'tls:\n  enabled: true\n'),
    line: 5,
    col: 8,
    path: 'listen.tls',
    says: 'TCP port 5061 is also used by the TCP SIP listener (listen.tcp)',
  },
  'health check on the SIP port': {
    yaml: relayWith('  udp: 5060\n  tcp: 8090\n', 'drain:\n  healthCheck: { port: 8090 }\n'),
    line: 8,
    col: 24,
    path: 'drain.healthCheck.port',
    says: 'TCP port 8090 is also used by the TCP SIP listener',
  },
  'rtpproxy control on the SIP port': {
    yaml: RELAY + 'media:\n  rtpproxy:\n    enabled: true\n    controlSocket: udp:127.0.0.1:5060\n',
    line: 9,
    col: 20,
    path: 'media.rtpproxy.controlSocket',
    says: 'UDP port 5060 is also used by the UDP SIP listener',
  },
  'SIP port inside the RTP range': {
    yaml: RELAY.replace('udp: 5060', 'udp: 25000') + 'media:\n  rtpproxy: { enabled: true }\n',
    line: 3,
    col: 8,
    path: 'listen.udp',
    says: 'lies inside the RTP port range 20000-30000',
  },
  'rtpproxy control not on loopback': {
    yaml: RELAY + 'media:\n  rtpproxy:\n    enabled: true\n    controlSocket: "udp:*:7722"\n',
    line: 9,
    col: 20,
    path: 'media.rtpproxy.controlSocket',
    says: 'the RTPProxy control protocol has no authentication',
  },
  'seed 004: weights under round-robin': {
    yaml: weighted(4, 'weight: 60', 'weight: 40'),
    line: 7,
    col: 58,
    path: 'dispatcher.destinations.0.attrs.weight',
    says: `algorithm 4 (round-robin) ignores 'weight'`,
  },
  'rweight under algorithm 9': {
    yaml: weighted(9, 'weight: 60', 'weight: 40, rweight: 5'),
    line: 8,
    col: 71,
    path: 'dispatcher.destinations.1.attrs.rweight',
    says: 'set dispatcher.algorithm: 11 (relative weight)',
  },
  'duid under round-robin': {
    yaml: weighted(4, 'duid: r0', ''),
    line: 7,
    col: 56,
    path: 'dispatcher.destinations.0.attrs.duid',
    says: 'set dispatcher.algorithm: 10 (call load)',
  },
  'weights short of 100': {
    yaml: weighted(9, 'weight: 60', 'weight: 30'),
    line: 6,
    col: 3,
    path: 'dispatcher.destinations',
    says: 'they add up to 90: Kamailio gives the missing 10% to the last destination',
  },
  'weights over 100': {
    yaml: weighted(9, 'weight: 60', 'weight: 50'),
    line: 6,
    col: 3,
    path: 'dispatcher.destinations',
    says: 'ignores every destination whose weight takes the sum past 100',
  },
  'algorithm 9, a destination without weight': {
    yaml: weighted(9, 'weight: 100', ''),
    line: 8,
    col: 7,
    path: 'dispatcher.destinations.1',
    says: 'needs attrs.weight on every destination',
  },
  'destination transport without listener': {
    yaml: DISPATCHER.replace('10.0.0.3, transport: udp', '10.0.0.3, transport: tcp'),
    line: 6,
    col: 36,
    path: 'dispatcher.destinations.0.transport',
    says: 'Kamailio sends TCP only from a tcp listener',
  },
  'same destination twice': {
    yaml: DISPATCHER.replace('10.0.0.4', '10.0.0.3'),
    line: 7,
    col: 15,
    path: 'dispatcher.destinations.1.host',
    says: 'repeats destination 0',
  },
  'elastic-ip without an address': {
    yaml: RELAY + 'advertise:\n  source: elastic-ip\n',
    line: 7,
    col: 11,
    path: 'advertise.source',
    says: 'add advertise.elasticIp',
  },
  'elasticIp without elastic-ip': {
    yaml: RELAY + 'advertise:\n  elasticIp: 44.199.36.104\n',
    line: 7,
    col: 14,
    path: 'advertise.elasticIp',
    says: 'set advertise.source: elastic-ip',
  },
  // deploy.refresh's own refinements (deploy-schema.ts) may catch these first; both report the same line and words.
  'checkpoints not ending at 100': {
    yaml: RELAY + deploy('    checkpointPercentages: [50, 90]\n'),
    line: 11,
    path: 'deploy.refresh.checkpointPercentages',
    says: 'the last checkpoint must be 100',
  },
  'max healthy too far above min': {
    yaml: RELAY + deploy('    minHealthyPercentage: 50\n    maxHealthyPercentage: 200\n'),
    line: 12,
    col: 27,
    path: 'deploy.refresh.maxHealthyPercentage',
    says: 'may be at most 100 above minHealthyPercentage',
  },
  'health deadline inside the warm-up': {
    yaml: RELAY + deploy('    instanceWarmup: 600\n').replace('  refresh:', '  healthyDeadlineSeconds: 300\n  refresh:'),
    line: 10,
    col: 27,
    path: 'deploy.healthyDeadlineSeconds',
    says: 'must be longer than refresh.instanceWarmup (600)',
  },
  'pattern without its own message': {
    yaml: RELAY + 'bake:\n  amiRegions: [eu-west]\n',
    line: 7,
    col: 16,
    path: 'bake.amiRegions.0',
    says: 'does not match the pattern /^[a-z]{2}(-gov)?-[a-z]+-\\d$/ (got "eu-west")',
  },
  'AMI region listed twice': {
    yaml: RELAY + 'bake:\n  amiRegions: [eu-west-1, eu-west-1]\n',
    line: 7,
    col: 27,
    path: 'bake.amiRegions.1',
    says: 'is listed twice',
  },
  'AMI copied to its own region': {
    yaml: RELAY + 'bake:\n  region: us-east-1\n  amiRegions: [eu-west-1, us-east-1]\n',
    line: 8,
    col: 27,
    path: 'bake.amiRegions.1',
    says: 'is bake.region itself',
  },
  'poll not shorter than the drain': {
    yaml: RELAY + 'drain:\n  maxSeconds: 5\n',
    line: 6,
    col: 1,
    path: 'drain.pollSeconds',
    says: 'must be shorter than drain.maxSeconds (5)',
  },
};

describe('bad-definition corpus', () => {
  let dirs: { root: string; cleanup: () => Promise<void> }[] = [];
  beforeAll(() => {
    dirs = [];
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => d.cleanup()));
  });

  it('has at least 30 cases', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(30);
  });

  it.each(Object.entries(cases))('%s', async (_title, c) => {
    const d = await testdir({ 'img.yaml': c.yaml });
    dirs.push(d);
    const r = await loadImage(d.root, 'img');
    expect(r.ok).toBe(false);
    const issues: DefinitionIssue[] = r.ok ? [] : r.issues;
    const lines = issues.map(formatIssue);
    const hit = issues.find((i) => (i.path === c.path || (c.col === undefined && i.path.startsWith(`${c.path}.`))) && formatIssue(i).includes(c.says));
    expect(hit, `no issue at ${c.path} saying "${c.says}"; got:\n${lines.join('\n')}`).toBeDefined();
    expect(hit).toMatchObject({
      file: 'images/img.yaml',
      line: c.line,
      ...(c.col === undefined ? {} : { col: c.col }),
    });
    // FILE:LINE:COL FIELD: …; a YAML syntax error has no field (FILE:LINE:COL: YAML syntax error: …).
    for (const l of lines) expect(l).toMatch(/^images\/img\.yaml:\d+:\d+(?: \S+|: YAML syntax error): .+; .+$/);
    if (c.hides) expect(lines.join('\n')).not.toContain(c.hides);

    // Rendering an invalid definition fails with a user error and leaves nothing at --out.
    const out = path.join(d.root, 'out');
    await expect(renderImage(d.root, 'img', { out })).rejects.toBeInstanceOf(UserError);
    expect(existsSync(out)).toBe(false);
  });
});

// Held-out bad definitions (issue 15 item 10) and input limits (issue 11 item 7): each is caught with
// file:line:field and a concrete fix, and the path is reported as the user typed it.
interface HeldOut {
  files: Record<string, string | Buffer>;
  /** What the user passes as IMAGE; `{root}` is the test directory. Default 'img'. */
  image?: string;
  /** The repository root to load from, relative to the test directory. Default '.'. */
  from?: string;
  file: string;
  line: number;
  col?: number;
  path: string;
  says: string[];
}

const pg = '  backend: { type: postgres, host: db.example.com, password: { source: ssm, name: /sipbake/img/db } }\n';
const tg = (region: string) =>
  `deploy:\n  region: us-east-1\n  asgName: asg\n  targetGroupArns: [arn:aws:elasticloadbalancing:${region}:123456789012:targetgroup/tg/0123456789abcdef]\n`;
let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
for (let i = 1; i < 9; i++)
  bomb += `a${i}: &a${i} [${Array(10)
    .fill(`*a${i - 1}`)
    .join(', ')}]\n`;
let deepBlock = '';
for (let i = 0; i < 40; i++) deepBlock += `${'  '.repeat(i)}k${i}:\n`;

const heldOut: Record<string, HeldOut> = {
  'Elastic IP in a private range': {
    files: { 'img.yaml': RELAY + 'advertise:\n  source: elastic-ip\n  elasticIp: 10.1.2.3\n' },
    file: 'images/img.yaml',
    line: 8,
    col: 14,
    path: 'advertise.elasticIp',
    says: ['is in the private range 10.0.0.0/8', "use the NLB's (or NAT gateway's) Elastic IP"],
  },
  'target group from another region': {
    files: { 'img.yaml': RELAY + tg('us-west-2') },
    file: 'images/img.yaml',
    line: 9,
    col: 21,
    path: 'deploy.targetGroupArns.0',
    says: ['is in region us-west-2, but deploy.region is us-east-1', 'or set deploy.region: us-west-2'],
  },
  'target group from another partition': {
    files: {
      'img.yaml': RELAY + tg('us-gov-west-1').replace('region: us-east-1', 'region: us-gov-west-1').replace('arn:aws:', 'arn:aws:'),
    },
    file: 'images/img.yaml',
    line: 9,
    col: 21,
    path: 'deploy.targetGroupArns.0',
    says: ['has partition aws, but us-gov-west-1 is in partition aws-us-gov', 'arn:aws-us-gov:elasticloadbalancing:'],
  },
  'TLS with no certificate or key source': {
    files: { 'img.yaml': relayWith('  udp: 5060\n  tls: 5061\n', 'tls:\n  enabled: true\n') },
    file: 'images/img.yaml',
    line: 8,
    col: 12,
    path: 'tls.enabled',
    says: ['nothing provides the certificate (PEM)', 'add tls.certificateSecret: { source: ssm'],
  },
  'host written with :port': {
    files: { 'img.yaml': DISPATCHER.replace('{ host: 10.0.0.3,', '{ host: "10.0.0.3:5070",') },
    file: 'images/img.yaml',
    line: 6,
    col: 15,
    path: 'dispatcher.destinations.0.host',
    says: ['must be a recorder address without a port (got "10.0.0.3:5070")', 'write 10.0.0.3 here and port: 5070'],
  },
  'relay domain written sip:…': {
    files: { 'img.yaml': RELAY.replace('{ domain: sip.example.com }', '{ domain: "sip:pbx.example.com" }') },
    file: 'images/img.yaml',
    line: 5,
    col: 26,
    path: 'relay.destination.domain',
    says: ['must be a bare SIP domain, not a URI', 'write pbx.example.com here'],
  },
  'relay domain with a port': {
    files: { 'img.yaml': RELAY.replace('{ domain: sip.example.com }', '{ domain: "pbx.example.com:5070" }') },
    file: 'images/img.yaml',
    line: 5,
    col: 26,
    path: 'relay.destination.domain',
    says: ['must be a SIP domain without a port', 'write pbx.example.com here and relay.destination.port: 5070'],
  },
  '76-character description under postgres': {
    files: {
      'img.yaml': DISPATCHER.replace('{ host: 10.0.0.3, transport: udp }', `{ host: 10.0.0.3, transport: udp, description: ${'r'.repeat(76)} }`) + pg,
    },
    file: 'images/img.yaml',
    line: 6,
    col: 54,
    path: 'dispatcher.destinations.0.description',
    says: ["is 76 characters, and Kamailio's dispatcher table holds 64", 'shorten it to 64 characters or fewer'],
  },
  'a non-UTF-8 byte': {
    files: {
      'img.yaml': Buffer.concat([Buffer.from(RELAY + 'description: caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    },
    file: 'images/img.yaml',
    line: 6,
    col: 17,
    path: 'description',
    says: ['byte 0xE9 here is not UTF-8', 'save the file as UTF-8'],
  },
  'duplicated dispatcher: section': {
    files: { 'img.yaml': DISPATCHER + 'media:\n  rtpproxy:\n    enabled: true\ndispatcher:\n  setId: 2\n' },
    file: 'images/img.yaml',
    line: 11,
    col: 1,
    path: 'dispatcher',
    says: ["duplicate key 'dispatcher' at the top level (first at line 4)", "remove one of the two 'dispatcher:' sections, or merge them"],
  },
  'weight beside host': {
    files: {
      'img.yaml': DISPATCHER.replace('{ host: 10.0.0.3, transport: udp }', '{ host: 10.0.0.3, transport: udp, weight: 50 }'),
    },
    file: 'images/img.yaml',
    line: 6,
    col: 41,
    path: 'dispatcher.destinations.0.weight',
    says: ["did you mean 'attrs.weight'?"],
  },
  'rtpproxy: at the top level': {
    files: { 'img.yaml': DISPATCHER + 'rtpproxy:\n  enabled: true\n' },
    file: 'images/img.yaml',
    line: 8,
    col: 1,
    path: 'rtpproxy',
    says: ["did you mean 'media.rtpproxy'?"],
  },
  'checkpoints [33, 66, 99]': {
    files: { 'img.yaml': RELAY + deploy('    checkpointPercentages: [33, 66, 99]\n') },
    file: 'images/img.yaml',
    line: 11,
    col: 37,
    path: 'deploy.refresh.checkpointPercentages.2',
    says: ['the last checkpoint must be 100 (AWS requires it; 99 would leave 1% of the group on the old image', 'e.g. [33, 66, 100]'],
  },
  'a UTF-16 file': {
    files: { 'img.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(RELAY, 'utf16le')]) },
    file: 'images/img.yaml',
    line: 1,
    col: 1,
    path: '',
    says: ['is encoded as UTF-16, and definitions are read as UTF-8', 'save the file as UTF-8'],
  },
  'a .json file': {
    files: {
      'relay.json': JSON.stringify({
        name: 'img',
        listen: { udp: 5060 },
        relay: { destination: { domain: 'sip.example.com' } },
      }),
    },
    image: 'images/relay.json',
    file: 'images/relay.json',
    line: 1,
    path: 'name',
    says: ["must equal the file name 'relay'", 'set name: relay, or rename the file to images/img.yaml'],
  },
  'a .json file whose name the name rule refuses': {
    files: {
      'My_Relay.json': JSON.stringify({
        name: 'img',
        listen: { udp: 5060 },
        relay: { destination: { domain: 'sip.example.com' } },
      }),
    },
    image: 'images/My_Relay.json',
    file: 'images/My_Relay.json',
    line: 1,
    path: 'name',
    says: ["'My_Relay' cannot be an image name", 'rename the file to images/img.yaml'],
  },
  'a directory passed as IMAGE': {
    files: { 'img.yaml': RELAY },
    image: '{root}',
    file: '{root}',
    line: 1,
    col: 1,
    path: '',
    says: ['is a directory, not an image definition', 'pass --root {root} and a name (img)'],
  },
  'a path typed with ../': {
    files: { 'img.yaml': RELAY.replace('udp: 5060', 'udp: 0') },
    from: 'images',
    image: '../images/img.yaml',
    file: '../images/img.yaml',
    line: 3,
    col: 8,
    path: 'listen.udp',
    says: ['must be an integer from 1 to 65535'],
  },
  // AWS's own limits (issue 13), caught before any effect
  'checkpointDelay past the AWS maximum': {
    files: { 'img.yaml': RELAY + deploy('    checkpointDelay: 172801\n') },
    file: 'images/img.yaml',
    line: 11,
    col: 22,
    path: 'deploy.refresh.checkpointDelay',
    says: ['must be an integer from 0 to 172800'],
  },
  'bakeTime past the AWS maximum': {
    files: { 'img.yaml': RELAY + deploy('    bakeTime: 200000\n') },
    file: 'images/img.yaml',
    line: 11,
    col: 15,
    path: 'deploy.refresh.bakeTime',
    says: ['must be an integer from 0 to 172800'],
  },
  'more alarms than AlarmSpecification takes': {
    files: {
      'img.yaml': RELAY + deploy(`    alarms: [${Array.from({ length: 11 }, (_, i) => `a${i}`).join(', ')}]\n`),
    },
    file: 'images/img.yaml',
    line: 11,
    col: 13,
    path: 'deploy.refresh.alarms',
    says: ['must list at most 10 items'],
  },
  'lifecycle hook name AWS refuses': {
    files: { 'img.yaml': RELAY + deploy('    bakeTime: 0\n') + '  lifecycleHook: { name: "drain hook" }\n' },
    file: 'images/img.yaml',
    line: 12,
    col: 26,
    path: 'deploy.lifecycleHook.name',
    says: ['must be 1-255 letters, digits, -, _ or /'],
  },
  // Kamailio 5.5/5.6 start-up failures (issue 12 item 3)
  'tls.method TLSv1.3': {
    files: {
      'img.yaml': relayWith(
        '  udp: 5060\n  tls: 5061\n',
        'tls:\n  enabled: true\n  method: TLSv1.3\n  certificateSecret: { source: ssm, name: /c }\n  privateKeySecret: { source: ssm, name: /k }\n',
      ),
    },
    file: 'images/img.yaml',
    line: 9,
    col: 11,
    path: 'tls.method',
    says: ["must be one of 'TLSv1.2+' or 'TLSv1.2': Kamailio 5.5 and 5.6 refuse it at start-up", "use one of 'TLSv1.2+' or 'TLSv1.2'"],
  },
  // input limits (issue 11 item 7)
  'alias bomb': {
    files: { 'img.yaml': RELAY + bomb },
    file: 'images/img.yaml',
    line: 7,
    path: 'a1.0',
    says: ['expands YAML aliases (*name) more than 50 times', 'write the values out'],
  },
  'oversize file': {
    files: { 'img.yaml': RELAY + `description: "${'x'.repeat(70_000)}"\n` },
    file: 'images/img.yaml',
    line: 1,
    col: 1,
    path: '',
    says: ['a definition may be at most 65,536 bytes (64 KiB)'],
  },
  'deep flow nesting': {
    files: { 'img.yaml': RELAY + `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n` },
    file: 'images/img.yaml',
    line: 6,
    col: 20,
    path: '',
    says: ['nests deeper than 16 levels'],
  },
  'deep block nesting': {
    files: { 'img.yaml': RELAY + deepBlock },
    file: 'images/img.yaml',
    line: 22,
    path: '',
    says: ['nests deeper than 16 levels'],
  },
};

describe('held-out bad definitions and input limits', () => {
  const made: { cleanup: () => Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(made.map((d) => d.cleanup()));
  });

  it.each(Object.entries(heldOut))('%s', async (_title, c) => {
    const d = await testdir(c.files);
    made.push(d);
    const sub = (s: string) => s.replaceAll('{root}', d.root);
    const r = await loadImage(path.join(d.root, c.from ?? '.'), sub(c.image ?? 'img'));
    expect(r.ok).toBe(false);
    const issues: DefinitionIssue[] = r.ok ? [] : r.issues;
    const lines = issues.map(formatIssue);
    const hit = issues.find((i) => i.path === c.path && c.says.every((s) => formatIssue(i).includes(sub(s))));
    expect(hit, `no issue at '${c.path}' saying ${JSON.stringify(c.says)}; got:\n${lines.join('\n')}`).toBeDefined();
    expect(hit).toMatchObject({ file: sub(c.file), line: c.line, ...(c.col === undefined ? {} : { col: c.col }) });
    for (const l of lines) expect(l.split('\n')).toHaveLength(1);
  });

  it.each(['alias bomb', 'oversize file', 'deep flow nesting', 'deep block nesting', 'a UTF-16 file', 'a non-UTF-8 byte'])(
    '`sipbake validate` exits 1 on: %s',
    async (title) => {
      const d = await testdir(heldOut[title]!.files);
      made.push(d);
      const reporter = new RecordingReporter();
      expect(await main(['validate', 'img', '--root', d.root], { reporter, env: {} })).toBe(1);
      expect(reporter.lines.filter((l) => l.message.startsWith('images/img.yaml:'))).toHaveLength(1);
    },
  );
});
