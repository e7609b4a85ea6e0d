// sipbake on-instance agent: `node agent.mjs boot` (before kamailio/rtpproxy) and `node agent.mjs drain`.
const [, , command] = process.argv;

async function run(): Promise<number> {
  switch (command) {
    case 'boot':
    case 'drain':
      process.stderr.write(`sipbake-agent: ${command} is not implemented in this build\n`);
      return 1;
    default:
      process.stderr.write('usage: agent.mjs boot|drain\n');
      return 2;
  }
}

run().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sipbake-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
