import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, listImages, loadImage, loadImageOrThrow, parseImage, resolveImagePath } from '../../src/definition/load.js';
import { UserError } from '../../src/core/errors.js';
import { didYouMean } from '../../src/definition/suggest.js';
import { RELAY, testdir } from './testdir.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('loading definitions', () => {
  it.each(['twilio-relay', 'recorder-lb'])('the seed image %s is valid', async (name) => {
    const r = await loadImage(repo, name);
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
  });

  it('applies the defaults', () => {
    const r = parseImage(RELAY, 'images/img.yaml');
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'));
    expect(r.image.relay?.destination.port).toBe(5060);
    expect(r.image.relay?.allowedSources).toContain('168.86.128.0/18');
    expect(r.image.media.rtpproxy.controlSocket).toBe('udp:127.0.0.1:7722');
    expect(r.image.tcp.keepaliveIdle).toBe(300);
  });

  it('accepts a non-loopback control socket only when asked for explicitly', () => {
    const media = (extra: string) => `media:\n  rtpproxy:\n    enabled: true\n    controlSocket: udp:10.0.0.5:7722\n${extra}`;
    expect(parseImage(RELAY + media(''), 'images/img.yaml').ok).toBe(false);
    expect(parseImage(RELAY + media('    allowNonLoopbackControl: true\n'), 'images/img.yaml').ok).toBe(true);
    expect(parseImage(RELAY + 'media:\n  rtpproxy: { enabled: true, controlSocket: "unix:/run/rtpproxy/rtpproxy.sock" }\n', 'images/img.yaml').ok).toBe(true);
  });

  it('reports every issue, not just the first', () => {
    const r = parseImage(RELAY.replace('udp: 5060', 'udp: 0') + 'tcp: { maxConnections: -1 }\nmemory: { sharedMb: 1 }\n', 'images/img.yaml');
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(['listen.udp', 'tcp.maxConnections', 'memory.sharedMb']);
  });

  it('formats an issue as FILE:LINE:COL FIELD: what (got VALUE); fix', () => {
    expect(
      formatIssue({
        file: 'images/a.yaml',
        line: 3,
        col: 8,
        path: 'listen.udp',
        message: 'must be an integer from 1 to 65535',
        got: '99999',
        fix: 'use a port number from 1 to 65535',
      }),
    ).toBe('images/a.yaml:3:8 listen.udp: must be an integer from 1 to 65535 (got 99999); use a port number from 1 to 65535');
    expect(formatIssue({ file: 'images/a.yaml', line: 1, col: 1, path: '', message: 'the file is empty', fix: 'write one' })).toBe(
      'images/a.yaml:1:1 (root): the file is empty; write one',
    );
  });

  it('resolves a name under images/ or a path', async () => {
    const d = await testdir({ 'img.yaml': RELAY, 'notes.txt': 'x' });
    try {
      expect(resolveImagePath(d.root, 'img')).toBe(path.join(d.root, 'images', 'img.yaml'));
      expect(resolveImagePath(d.root, 'images/img.yaml')).toBe(path.join(d.root, 'images', 'img.yaml'));
      expect(await listImages(d.root)).toEqual(['img']);
      expect((await loadImage(d.root, path.join(d.root, 'images', 'img.yaml'))).ok).toBe(true);
      await expect(loadImageOrThrow(d.root, 'nope')).rejects.toBeInstanceOf(UserError);
    } finally {
      await d.cleanup();
    }
  });

  it('loadImageOrThrow lists every issue line in the UserError', async () => {
    const d = await testdir({ 'img.yaml': RELAY.replace('udp: 5060', 'udp: 99999') });
    try {
      const e = await loadImageOrThrow(d.root, 'img').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).details).toEqual([
        'images/img.yaml:3:8 listen.udp: must be an integer from 1 to 65535 (got 99999); use a port number from 1 to 65535',
      ]);
    } finally {
      await d.cleanup();
    }
  });
});

describe('didYouMean', () => {
  it.each([
    ['tpc', ['udp', 'tcp', 'tls'], 'tcp'],
    ['keepaliveIdel', ['keepaliveIdle', 'keepaliveInterval'], 'keepaliveIdle'],
    ['Dispatcher', ['relay', 'dispatcher'], 'dispatcher'],
    ['colour', ['jsonrpc', 'debugger', 'log'], undefined],
    ['x', ['udp', 'tcp'], undefined],
  ] as const)('%s → %s', (word, candidates, want) => {
    expect(didYouMean(word, candidates)).toBe(want);
  });
});

describe('refinements from other schema files', () => {
  it('use the fix a refinement gives in params', async () => {
    const { z } = await import('zod');
    const { explain } = await import('../../src/definition/explain.js');
    const schema = z.strictObject({
      a: z.number().refine((n) => n % 2 === 0, { error: 'must be even', params: { fix: 'use 2, 4 or 6' } }),
    });
    const r = schema.safeParse({ a: 3 }, { reportInput: true });
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues.flatMap((i) => explain(i as never, schema, { a: 3 }));
    expect(issues).toEqual([{ path: ['a'], at: 'value', message: 'must be even', got: '3', fix: 'use 2, 4 or 6' }]);
  });
});
