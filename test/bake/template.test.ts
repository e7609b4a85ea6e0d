import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { generatePacker, templateFor } from '../../src/bake/generate.js';
import { PLUGINS_FILE, TEMPLATE_FILE, scriptOrder } from '../../src/bake/template.js';
import { AMI_TAG as TAG } from '../../src/contract/tags.js';
import { quote } from '../../src/bake/hcl.js';

const root = path.resolve(import.meta.dirname, '../..');

// The parts of @cdktf/hcl2json's output these tests read: every block is a list; expressions stay text ("${var.x}").
interface ParsedPlugins {
  packer: { required_plugins: Record<string, { source: string }>[] }[];
}
interface ParsedTemplate {
  source: { 'amazon-ebs': { sipbake: AmazonEbsSource[] } };
  locals: Record<string, unknown>[];
  build: {
    provisioner: { file: { source: string }[]; shell: { environment_vars?: string[]; inline?: string[] }[] };
    'post-processor': { manifest: { custom_data: unknown }[] };
  }[];
}
type AmazonEbsSource = Record<string, unknown> & {
  metadata_options: { http_tokens: string }[];
  source_ami_filter: { owners: string[]; filters: { name: string }; most_recent: boolean }[];
};

async function withFile<T>(name: string, text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-packer-'));
  try {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('packer.pkr.hcl', () => {
  it('is up to date with the generator (run `npx sipbake packer` when this fails)', async () => {
    const r = await generatePacker(root, { check: true });
    expect(r.files.filter((f) => f.changed)).toEqual([]);
  });

  it.each([TEMPLATE_FILE, PLUGINS_FILE])('%s passes packer fmt -check (Packer 1.6.6)', async (name) => {
    const t = await templateFor(root);
    const text = name === TEMPLATE_FILE ? t.template : t.plugins;
    await withFile(name, text, async (file) => {
      const r = await execa('packer', ['fmt', '-check', '-diff', file], { reject: false });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    });
  });

  it('passes packer validate -syntax-only (Packer 1.6.6, without the plugins file)', async () => {
    const { template } = await templateFor(root);
    await withFile(TEMPLATE_FILE, template, async (file) => {
      const r = await execa('packer', ['validate', '-syntax-only', file], { reject: false, cwd: path.dirname(file) });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    });
  });

  it('keeps required_plugins out of packer.pkr.hcl, because Packer 1.6.6 rejects it', async () => {
    const { template, plugins } = await templateFor(root);
    expect(template).not.toContain('required_plugins');
    const p = (await parse(PLUGINS_FILE, plugins)) as ParsedPlugins;
    expect(p.packer[0]!.required_plugins[0]!.amazon!.source).toBe('github.com/hashicorp/amazon');
  });

  it('means what the issue asks: IMDSv2, encryption, ENA, Debian base, tags, distribution, manifest', async () => {
    const { template } = await templateFor(root);
    const j = (await parse(TEMPLATE_FILE, template)) as ParsedTemplate;
    const src = j.source['amazon-ebs'].sipbake[0]!;
    expect(src.metadata_options[0]!.http_tokens).toBe('required');
    expect(src.imds_support).toBe('v2.0');
    expect(src.encrypt_boot).toBe(true);
    expect(src.ena_support).toBe(true);
    // SSH only from the builder's own public address (issue 11): nothing overrides it with a wider source.
    expect(src.temporary_security_group_source_public_ip).toBe(true);
    for (const k of ['temporary_security_group_source_cidrs', 'security_group_id', 'security_group_ids', 'security_group_filter'])
      expect(src[k]).toBeUndefined();
    const filter = src.source_ami_filter[0]!;
    expect(filter.owners).toEqual(['136693071363']);
    expect(filter.filters.name).toMatch(/^debian-12-/);
    expect(filter.most_recent).toBe(true);
    for (const v of ['region', 'instance_type', 'subnet_id', 'vpc_id']) expect(src[v]).toBe(`\${var.${v}}`);
    expect(src.ami_regions).toBe('${var.ami_regions}');
    expect(src.ami_users).toBe('${var.ami_users}');
    expect(src.deprecate_at).toContain('timeadd(local.built_at');
    expect(src.tags).toBe('${local.tags}');
    expect(src.snapshot_tags).toBe('${local.tags}');

    const locals = Object.assign({}, ...j.locals) as { ami_name?: string; tags: Record<string, string> };
    expect(locals.ami_name).toBe('sipbake-${var.image_name}-${substr(var.content_hash, 0, 12)}-${local.stamp}');
    expect(Object.keys(locals.tags).sort()).toEqual(Object.values(TAG).sort());
    expect(locals.tags[TAG.sourceAmi]).toBe('{{ .SourceAMI }}');

    const b = j.build[0]!;
    expect(b.provisioner.file.map((f) => f.source)).toEqual(['${var.tree_dir}/', '${var.scripts_dir}/', '${var.boot_placeholder}']);
    const run = b.provisioner.shell.find((s) => s.environment_vars)?.inline ?? [];
    expect(run).toEqual(scriptOrder(run.map((l) => path.basename(l))).map((s) => `bash /tmp/sipbake/scripts/${s}`));
    expect(run.length).toBeGreaterThanOrEqual(5);
    expect(b['post-processor'].manifest[0]!.custom_data).toEqual({
      content_hash: '${var.content_hash}',
      image: '${var.image_name}',
    });
  });

  it('uploads before it provisions, in that order', async () => {
    const text = await readFile(path.join(root, TEMPLATE_FILE), 'utf8');
    const at = (s: string) => text.indexOf(s);
    expect(at('provisioner "file"')).toBeLessThan(at('00-base.sh'));
    expect(at('00-base.sh')).toBeLessThan(at('90-cleanup.sh'));
  });
});

describe('hcl writer', () => {
  it.each([
    ['plain', '"plain"'],
    ['${literal}', '"$${literal}"'],
    ['%{x}', '"%%{x}"'],
    ['a"b', '"a\\"b"'],
  ])('quotes %s', (input, out) => expect(quote(input)).toBe(out));

  it('orders the numbered scripts and ignores everything else', () => {
    expect(scriptOrder(['90-cleanup.sh', 'pins.env', 'lib', '00-base.sh', '20-kamailio.sh', 'README.md'])).toEqual([
      '00-base.sh',
      '20-kamailio.sh',
      '90-cleanup.sh',
    ]);
  });
});
