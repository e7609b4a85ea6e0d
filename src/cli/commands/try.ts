import { defineCommand } from '../command.js';
import { UsageError } from '../../core/errors.js';
import { loopbackNet, TRY_NET } from '../../try/plan.js';

export default defineCommand({
  command: 'try <image>',
  describe: `Start the rendered image on loopback (${TRY_NET}.x) with fake peers, and print a SIPp command that places a call; Ctrl-C stops everything`,
  builder: (y) =>
    y
      .positional('image', {
        type: 'string',
        demandOption: true,
        describe: 'Name under images/ or a path to a YAML file',
      })
      .option('for', { type: 'number', describe: 'Stop by itself after this many seconds (default: until Ctrl-C)' })
      .option('address', {
        type: 'string',
        default: `${TRY_NET}.0/24`,
        describe: 'The loopback /24 to run on (inside 127.0.0.0/8): Kamailio on .2, the peers on .10+, the caller on .20',
      })
      .check((a) => {
        if (!loopbackNet(String(a.address)))
          throw new UsageError(`--address ${a.address} is not a loopback /24 (e.g. 127.0.30.0/24): try only runs on 127.0.0.0/8`);
        return true;
      })
      .example('$0 try twilio-relay', 'prints the address to call, the fake destination, and the sipp command that places a call')
      .example('$0 try recorder-lb --address 127.0.30.0/24', 'on another loopback range (e.g. next to another try)')
      .example('$0 try recorder-lb --json --for 60', 'the addresses as JSON; stops after a minute'),
  run: async (o, ctx) => {
    const { runTry } = await import('../../try/run.js');
    const net = loopbackNet(String(o.address));
    if (net === undefined) throw new Error(`--address ${o.address} passed the builder's check but is not a loopback /24`);
    await runTry({
      root: ctx.root,
      image: o.image,
      reporter: ctx.reporter,
      signal: ctx.signal,
      net,
      ...(o.for !== undefined ? { forSeconds: o.for } : {}),
    });
  },
});
