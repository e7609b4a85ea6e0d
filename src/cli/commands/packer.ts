import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineCommand } from '../command.js';
import { UserError } from '../../core/errors.js';
import { generatePacker } from '../../bake/generate.js';
import { scriptsFix } from '../repository.js';

export default defineCommand({
  command: 'packer',
  describe: 'Generate packer.pkr.hcl (and packer-plugins.pkr.hcl) at the repository root',
  builder: (y) =>
    y
      .option('check', {
        type: 'boolean',
        default: false,
        describe: 'Write nothing; exit 1 when the checked-in files are stale',
      })
      .example('$0 packer', 'regenerate after changing scripts/ or sipbake itself')
      .example('$0 packer --check', 'in CI: fail when packer.pkr.hcl is stale'),
  run: async (opts, ctx) => {
    if (!existsSync(path.join(ctx.root, 'scripts'))) {
      throw new UserError(`${ctx.root} has no scripts/: the template runs the provisioning scripts from there, in order`, scriptsFix(ctx.root));
    }
    const r = await generatePacker(ctx.root, { check: opts.check });
    const stale = r.files.filter((f) => f.changed).map((f) => f.path);
    ctx.reporter.result({ ok: !(opts.check && stale.length), files: r.files });
    if (opts.check && stale.length) {
      throw new UserError(`stale: ${stale.join(', ')} no longer match what sipbake generates`, 'run `npx sipbake packer` and commit the result');
    }
    for (const f of r.files) ctx.reporter.line(`${f.path}: ${opts.check ? 'up to date' : f.changed ? 'written' : 'unchanged'}`);
  },
});
