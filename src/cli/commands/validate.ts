import { defineCommand } from '../command.js';
import type { DefinitionIssue } from '../../definition/load.js';

interface ValidateReport {
  ok: boolean;
  images: { file: string; ok: boolean; issues: DefinitionIssue[]; warnings: DefinitionIssue[] }[];
}

/** Load every named image (all under images/ when none), collecting every issue. */
async function validateImages(root: string, names: readonly string[]): Promise<ValidateReport> {
  // The loader (zod, yaml) loads when the command runs, not for --help and completion.
  const { listImages, loadImage } = await import('../../definition/load.js');
  const targets = names.length ? names : await listImages(root);
  const images: ValidateReport['images'] = [];
  for (const n of targets) {
    const r = await loadImage(root, n);
    images.push({ file: r.file, ok: r.ok, issues: r.ok ? [] : r.issues, warnings: r.ok ? r.warnings : [] });
  }
  return { ok: images.length > 0 && images.every((i) => i.ok), images };
}

export default defineCommand({
  command: 'validate [images..]',
  describe: 'Validate image definitions (all under images/ when none named); prints every error as FILE:LINE:COL FIELD: what is wrong; what to do',
  builder: (y) =>
    y
      .positional('images', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'Names under images/ or paths to YAML files',
      })
      .example('$0 validate', 'every image under images/')
      .example('$0 validate recorder-lb ./my-image.yaml --json', 'named ones, as one JSON document'),
  run: async (o, ctx) => {
    const report = await validateImages(ctx.root, (o.images ?? []).map(String));
    const { formatIssue } = await import('../../definition/load.js');
    if (report.images.length === 0) {
      ctx.reporter.line(`no image definitions under ${ctx.root}/images`, 'error');
      ctx.reporter.line('  fix: add images/NAME.yaml, or pass --root', 'error');
    }
    for (const img of report.images) {
      if (img.ok)
        ctx.reporter.line(`${img.file}: ok${img.warnings.length ? ` (${img.warnings.length} warning${img.warnings.length === 1 ? '' : 's'})` : ''}`, 'success');
      for (const w of img.warnings) ctx.reporter.line(formatIssue(w), 'warn');
      // The issue line itself must start with the file, so it carries no "error: " prefix.
      for (const i of img.issues) ctx.reporter.line(formatIssue(i), 'info');
    }
    const bad = report.images.filter((i) => !i.ok);
    if (bad.length)
      ctx.reporter.line(`${bad.reduce((n, i) => n + i.issues.length, 0)} problem(s) in ${bad.length} of ${report.images.length} image definition(s)`, 'info');
    ctx.reporter.result({
      ok: report.ok,
      images: report.images.map((i) => ({
        file: i.file,
        ok: i.ok,
        issues: i.issues.map((x) => ({
          file: x.file,
          line: x.line,
          col: x.col,
          path: x.path,
          message: x.message,
          got: x.got ?? null,
          fix: x.fix,
        })),
        warnings: i.warnings.map((x) => ({
          file: x.file,
          line: x.line,
          col: x.col,
          path: x.path,
          message: x.message,
          got: x.got ?? null,
          fix: x.fix,
        })),
      })),
    });
    return report.ok ? 0 : 1;
  },
});
