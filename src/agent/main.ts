// sipbake on-instance agent: `node agent.mjs boot` (before kamailio/rtpproxy), `node agent.mjs drain`
// and `node agent.mjs status` (sipbake-status). A thin dispatcher: the work lives in boot.ts,
// drain-agent.ts and status.ts.
import { UserError } from '../core/errors.js';
import { agentEnv } from './env.js';
import { stderrLog } from './log.js';

const [, , command, ...rest] = process.argv;
// The image's node is Debian's 18 and the bundled SDK is pinned; its notice about future releases is noise at boot.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function oneLine(e: unknown): string {
  const fix = e instanceof UserError && e.fix ? `; ${e.fix}` : '';
  return `${e instanceof Error ? e.message : String(e)}${fix}`;
}

async function boot(): Promise<number> {
  const [{ runBoot }, { writeBootResult }, creds] = await Promise.all([import('./boot.js'), import('../contract/boot-result.js'), import('./credentials.js')]);
  const env = agentEnv(process.env);
  const log = stderrLog('sipbake-boot');
  const started = Date.now();
  try {
    const r = await runBoot({
      root: env.root,
      imds: { endpoint: env.imdsEndpoint, budgetMs: env.imdsBudgetSeconds * 1000, requestTimeoutMs: env.imdsRequestTimeoutSeconds * 1000 },
      ...(env.ssmEndpoint ? { ssmEndpoint: env.ssmEndpoint } : {}),
      ...(env.secretsManagerEndpoint ? { secretsManagerEndpoint: env.secretsManagerEndpoint } : {}),
      ...(env.ec2Endpoint ? { ec2Endpoint: env.ec2Endpoint } : {}),
      // On the instance: the role's keys from IMDSv2, retried; static AWS_* keys win where set (tests).
      ...(creds.hasEnvironmentKeys(process.env) ? {} : { credentials: creds.instanceRoleCredentials({ endpoint: env.imdsEndpoint }) }),
      deadlineSeconds: env.bootDeadlineSeconds,
      log,
    });
    log(`done: ${r.files.length} file(s) written`);
    await writeBootResult(env.root, {
      ok: true,
      at: new Date().toISOString(),
      durationMs: Date.now() - started,
      privateIp: r.privateIp,
      publicIp: r.publicIp,
      advertise: r.advertise,
      ...(r.peerNet ? { peerNet: r.peerNet } : {}),
      files: r.files,
    }).catch(() => undefined);
    return 0;
  } catch (e) {
    await writeBootResult(env.root, {
      ok: false,
      at: new Date().toISOString(),
      durationMs: Date.now() - started,
      error: oneLine(e),
    }).catch(() => undefined);
    throw e;
  }
}

async function status(): Promise<number> {
  const [{ observeStatus, formatStatus, kamcmdRunner, statusArgs }, { readManifest }, { ctlSocket }, { rtpproxyAsker }] = await Promise.all([
    import('./status.js'),
    import('../contract/image-manifest.js'),
    import('../contract/boot-include.js'),
    import('./status-rtpproxy.js'),
  ]);
  const args = statusArgs(rest);
  if ('usage' in args) {
    process.stderr.write(`sipbake-status: ${args.usage}\n`);
    return 2;
  }
  const env = agentEnv(process.env);
  const m = await readManifest(env.root).catch(() => undefined);
  const kam = kamcmdRunner(env.kamcmd ?? m?.kamcmd ?? 'kamcmd', ctlSocket(env.root));
  const rtp = m?.rtpproxyControlSocket;
  const o = await observeStatus(env.root, kam, m ? m.destinationHosts.length > 0 : true, {
    ...(rtp ? { rtpproxy: { socket: rtp, ask: rtpproxyAsker(rtp) } } : {}),
    ...(args.callId !== undefined ? { callId: args.callId } : {}),
  });
  if (args.json) process.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
  else process.stdout.write(formatStatus(m?.name ?? '(no image manifest)', o));
  if (!o.kamailio.up) return 3;
  // --call in scripts: 0 held here, 4 not here.
  return o.call && o.call.held === false ? 4 : 0;
}

async function run(): Promise<number> {
  switch (command) {
    case 'boot':
      return boot();
    case 'drain': {
      const { runDrainAgent } = await import('./drain-agent.js');
      return runDrainAgent(agentEnv(process.env), stderrLog('sipbake-drain'));
    }
    case 'status':
      return status();
    default:
      process.stderr.write('usage: agent.mjs boot|drain|status [--json] [--call CALL-ID]\n');
      return 2;
  }
}

run().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sipbake-agent ${command ?? ''}: ${oneLine(e)}\n`);
    process.exit(1);
  },
);
