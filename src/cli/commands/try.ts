import { defineCommand } from '../command.js';
import { runTry } from '../../try/run.js';

export default defineCommand({
  command: 'try <image>',
  describe: 'Start the rendered image on loopback (127.0.20.x) with fake peers to poke at; Ctrl-C stops everything',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'Name under images/ or a path to a YAML file' })
      .option('for', { type: 'number', describe: 'Stop by itself after this many seconds (default: until Ctrl-C)' })
      .example('$0 try twilio-relay', 'prints the address to call and where the fake destination listens')
      .example('$0 try recorder-lb --json --for 60', 'the addresses as JSON; stops after a minute'),
  run: async (o, ctx) => {
    await runTry({ root: ctx.root, image: o.image, reporter: ctx.reporter, signal: ctx.signal, ...(o.for !== undefined ? { forSeconds: o.for } : {}) });
  },
});
