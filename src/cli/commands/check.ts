import { rm } from 'node:fs/promises';
import path from 'node:path';
import { defineCommand } from '../command.js';
import { UserError } from '../../core/errors.js';

export default defineCommand({
  command: 'check [images..]',
  describe: 'Render with --local into a temporary directory and run the real `kamailio -c` on it (all images when none named)',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'Names under images/ or paths to YAML files' })
      .option('kamailio', { type: 'string', default: 'kamailio', describe: 'kamailio binary to check with' })
      .option('start', {
        type: 'boolean',
        default: false,
        describe: 'Also start Kamailio on a random loopback address until its control socket answers (catches module start-up errors that -c cannot)',
      })
      .example('$0 check', 'every image under images/, with the real kamailio -c')
      .example('$0 check twilio-relay --start', 'also start it on loopback until its control socket answers'),
  run: async (o, ctx) => {
    // The renderer, execa and the definition loader load when the command runs, not for --help and completion.
    const [
      { renderImage },
      { KAMAILIO_CFG_PATH },
      { kamailioCheck },
      { kamailioStart },
      { listImages },
      { shortRunDir, CTL_SOCKET_IN_TREE },
      { startOverrides, writeStartCopy },
    ] = await Promise.all([
      import('../../render/index.js'),
      import('../../render/plan.js'),
      import('../../check/kamailio-check.js'),
      import('../../check/kamailio-start.js'),
      import('../../definition/load.js'),
      import('../../try/run-dir.js'),
      import('../../check/start-copy.js'),
    ]);
    const names = o.images && o.images.length > 0 ? o.images : await listImages(ctx.root);
    if (names.length === 0) throw new UserError(`no image definitions under ${path.join(ctx.root, 'images')}`, 'add images/NAME.yaml, or name a YAML file');
    const results: { image: string; ok: boolean; errors: string[] }[] = [];
    for (const name of names) {
      // Short enough for Kamailio's ctl socket whatever TMPDIR is (src/try/run-dir.ts).
      const dir = await shortRunDir('sipbake-check-', path.join('tree', CTL_SOCKET_IN_TREE));
      try {
        // A random 127.x address keeps --start clear of anything already listening on the image's ports.
        const ip = o.start
          ? `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`
          : '127.0.0.1';
        const r = await renderImage(ctx.root, name, {
          out: path.join(dir, 'tree'),
          local: { privateIp: ip, publicIp: ip },
        });
        const cfg = path.join(r.outDir, KAMAILIO_CFG_PATH);
        let outcome = await kamailioCheck(cfg, { kamailio: o.kamailio, signal: ctx.signal });
        let what = 'kamailio -c';
        if (outcome.ok && o.start) {
          what = 'kamailio -c and start-up';
          // A postgres backend starts on the list file, as under try: its database is not reachable from here.
          const overrides = startOverrides(r.plan.image, ip);
          const local = { privateIp: ip, publicIp: ip };
          const up = overrides
            ? await renderImage(ctx.root, await writeStartCopy(ctx.root, r.file, r.plan.image.name, overrides, dir), { out: path.join(dir, 'up'), local })
            : r;
          if (overrides) {
            what = 'kamailio -c, and start-up with the list-file backend';
            ctx.reporter.line(`${r.file}: start-up uses the list-file backend instead of PostgreSQL (its server is not reachable from here)`, 'note');
          }
          outcome = await kamailioStart(path.join(up.outDir, KAMAILIO_CFG_PATH), {
            kamailio: o.kamailio,
            ctlSocket: `unix:${path.join(up.outDir, CTL_SOCKET_IN_TREE)}`,
            signal: ctx.signal,
          });
        }
        results.push({ image: name, ok: outcome.ok, errors: outcome.errors });
        if (outcome.ok) ctx.reporter.line(`${r.file}: ${what} ok`, 'success');
        else {
          ctx.reporter.line(`${r.file}: kamailio rejected the rendered config (${what}):`, 'error');
          for (const l of outcome.errors.length > 0 ? outcome.errors : outcome.output.split('\n').slice(-15)) ctx.reporter.line(`  ${l}`, 'error');
          const b = r.plan.image.dispatcher?.backend;
          if (b?.type === 'postgres' && /db_postgres|connect to the database/.test(outcome.output)) {
            ctx.reporter.line(
              `  fix: start-up needs the PostgreSQL server of dispatcher.backend (${b.host}:${b.port}) reachable from here; check a file-backend copy of the image instead, or run the live tests`,
              'error',
            );
          }
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    ctx.reporter.result({ ok: results.every((r) => r.ok), images: results });
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
