import { isIPv4 } from 'node:net';
import { defineCommand } from '../command.js';
import { UserError } from '../../core/errors.js';
import { kamailioTreeArgv } from '../../contract/kamailio-args.js';

export default defineCommand({
  command: 'render <image>',
  describe: 'Render an image into a root-filesystem tree (atomic: nothing is left at --out on error)',
  builder: (y) =>
    y
      .positional('image', {
        type: 'string',
        demandOption: true,
        describe: 'Name under images/ or a path to a YAML file',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Directory to write the tree to (replaced whole)',
      })
      .option('local', {
        type: 'boolean',
        default: false,
        describe: 'Also write the boot-time files for loopback, so kamailio runs from the tree',
      })
      .option('private-ip', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'With --local: the address to listen on',
      })
      .option('public-ip', {
        type: 'string',
        describe: 'With --local: the address to advertise (default: --private-ip)',
      })
      .option('db-password-env', {
        type: 'string',
        describe: 'With --local and a postgres backend: environment variable holding the DB password',
      })
      .example('$0 render recorder-lb --out build/recorder-lb', 'the tree that gets baked')
      .example('$0 render twilio-relay --out /tmp/relay --local && kamailio -DD -E -f /tmp/relay/etc/kamailio/kamailio.cfg', 'run it on loopback'),
  run: async (o, ctx) => {
    // The renderer (eta, execa) loads when the command runs, not for --help and completion.
    const { renderImage } = await import('../../render/index.js');
    const privateIp = o['private-ip'];
    const publicIp = o['public-ip'] ?? privateIp;
    for (const [flag, v] of [
      ['--private-ip', privateIp],
      ['--public-ip', publicIp],
    ] as const) {
      if (!isIPv4(v))
        throw new UserError(`${flag} ${v} is not an IPv4 address`, `pass an address such as 127.0.0.1`, {
          exitCode: 2,
        });
    }
    let dbPassword: string | undefined;
    if (o['db-password-env'] !== undefined) {
      dbPassword = ctx.env[o['db-password-env']];
      if (dbPassword === undefined) throw new UserError(`environment variable ${o['db-password-env']} is not set`, 'export it, or drop --db-password-env');
    }
    const r = await renderImage(ctx.root, o.image, {
      out: o.out,
      ...(o.local ? { local: { privateIp, publicIp, ...(dbPassword !== undefined ? { dbPassword } : {}) } } : {}),
    });
    ctx.reporter.line(`rendered ${r.file} → ${r.outDir} (${r.plan.files.length} files, modules: ${r.plan.modules.join(' ')})`, 'success');
    if (o.local) ctx.reporter.line(`run it: ${kamailioTreeArgv(r.plan.image.memory, r.outDir).join(' ')}`);
    ctx.reporter.result({
      ok: true,
      image: r.plan.image.name,
      file: r.file,
      out: r.outDir,
      local: o.local,
      files: r.plan.files.map((f) => f.path),
      modules: r.plan.modules,
    });
  },
});
