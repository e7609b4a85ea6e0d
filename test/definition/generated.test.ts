import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaText, SCHEMA_FILE } from '../../src/definition/emit-schema.js';
import { BEGIN, END, fieldReference, withFieldReference } from '../../src/definition/field-docs.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('generated files are up to date', () => {
  it('images/schema.json matches the zod schema', async () => {
    const checkedIn = await readFile(path.join(repo, SCHEMA_FILE), 'utf8');
    expect(checkedIn === jsonSchemaText(), `${SCHEMA_FILE} is stale: run \`npm run schema\` and commit it`).toBe(true);
  });

  it('the README field reference matches the schema and the rules', async () => {
    const readme = await readFile(path.join(repo, 'docs/definition.md'), 'utf8');
    const section = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim();
    expect(section === fieldReference(), 'docs/definition.md "Image definition reference" is stale: run `npm run schema` and commit it').toBe(true);
  });

  it('the JSON schema is deterministic and describes the fields editors complete', () => {
    expect(jsonSchemaText()).toBe(jsonSchemaText());
    const s = JSON.parse(jsonSchemaText()) as {
      required: string[];
      properties: Record<string, { properties?: Record<string, { maximum?: number }> }>;
      additionalProperties: boolean;
    };
    expect(s.required).toEqual(['name', 'listen']);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.listen?.properties?.udp?.maximum).toBe(65535);
  });

  it('every field of both seeds appears in the README reference', () => {
    const ref = fieldReference();
    for (const f of [
      'listen.udp',
      'relay.allowedSources',
      'dispatcher.destinations[].attrs.weight',
      'dispatcher.backend.password',
      'media.rtpproxy.controlSocket',
      'tcp.keepaliveIdle',
      'tls.maxConnections',
      'antiflood.ipbanExpire',
      'diagnostics.jsonrpc',
    ]) {
      expect(ref).toContain(`\`${f}\``);
    }
    expect(ref).toContain('### Rules that span fields');
  });

  it('replaces only the text between the markers', () => {
    const readme = `# x\n${BEGIN}\nOLDTEXT\n${END}\ntail\n`;
    const out = withFieldReference(readme);
    expect(out.startsWith(`# x\n${BEGIN}\n## Image definition reference`)).toBe(true);
    expect(out.endsWith(`\n${END}\ntail\n`)).toBe(true);
    expect(out).not.toContain('OLDTEXT');
    expect(withFieldReference(out)).toBe(out);
  });
});
