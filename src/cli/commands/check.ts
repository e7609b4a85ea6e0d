import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defineCommand } from '../command.js';
import { listImages } from '../../definition/load.js';
import { renderImage } from '../../render/index.js';
import { kamailioCheck } from '../../check/kamailio-check.js';
import { KAMAILIO_CFG_PATH } from '../../render/plan.js';
import { UserError } from '../errors.js';

export default defineCommand({
  command: 'check [images..]',
  describe: 'Render with --local into a temporary directory and run the real `kamailio -c` on it (all images when none named)',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'Names under images/ or paths to YAML files' })
      .option('kamailio', { type: 'string', default: 'kamailio', describe: 'kamailio binary to check with' }),
  run: async (o, ctx) => {
    const names = o.images && o.images.length > 0 ? o.images : await listImages(ctx.root);
    if (names.length === 0) throw new UserError(`no image definitions under ${path.join(ctx.root, 'images')}`, 'add images/NAME.yaml, or name a YAML file');
    const results: { image: string; ok: boolean; errors: string[] }[] = [];
    for (const name of names) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-check-'));
      try {
        const r = await renderImage(ctx.root, name, { out: path.join(dir, 'tree'), local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } });
        const outcome = await kamailioCheck(path.join(r.outDir, KAMAILIO_CFG_PATH), { kamailio: o.kamailio, signal: ctx.signal });
        results.push({ image: name, ok: outcome.ok, errors: outcome.errors });
        if (outcome.ok) ctx.reporter.line(`${r.file}: kamailio -c ok`, 'success');
        else {
          ctx.reporter.line(`${r.file}: kamailio rejected the rendered config:`, 'error');
          for (const l of outcome.errors.length > 0 ? outcome.errors : outcome.output.split('\n').slice(-15)) ctx.reporter.line(`  ${l}`, 'error');
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    ctx.reporter.result({ ok: results.every((r) => r.ok), images: results });
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
