// sipbake on-instance agent: `node agent.mjs boot` (before kamailio/rtpproxy) and `node agent.mjs drain`.
// A thin dispatcher: the work lives in boot.ts and drain-agent.ts.
import { UserError } from '../core/errors.js';
import { agentEnv } from './env.js';
import { stderrLog } from './log.js';

const [, , command] = process.argv;
// The image's node is Debian's 18 and the bundled SDK is pinned; its notice about future releases is noise at boot.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function run(): Promise<number> {
  switch (command) {
    case 'boot': {
      const { runBoot } = await import('./boot.js');
      const env = agentEnv(process.env);
      const log = stderrLog('sipbake-boot');
      const r = await runBoot({
        root: env.root,
        imds: { endpoint: env.imdsEndpoint, budgetMs: env.imdsBudgetSeconds * 1000 },
        ...(env.ssmEndpoint ? { ssmEndpoint: env.ssmEndpoint } : {}),
        ...(env.secretsManagerEndpoint ? { secretsManagerEndpoint: env.secretsManagerEndpoint } : {}),
        log,
      });
      log(`done: ${r.files.length} file(s) written`);
      return 0;
    }
    case 'drain': {
      const { runDrainAgent } = await import('./drain-agent.js');
      return runDrainAgent(agentEnv(process.env), stderrLog('sipbake-drain'));
    }
    default:
      process.stderr.write('usage: agent.mjs boot|drain\n');
      return 2;
  }
}

run().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const fix = e instanceof UserError && e.fix ? `; ${e.fix}` : '';
    process.stderr.write(`sipbake-agent ${command ?? ''}: ${e instanceof Error ? e.message : String(e)}${fix}\n`);
    process.exit(1);
  },
);
