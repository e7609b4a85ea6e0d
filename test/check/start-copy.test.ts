// check --start's start-up copy of a postgres-backed image (src/check/start-copy.ts).
import { describe, expect, it } from 'vitest';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { startOverrides } from '../../src/check/start-copy.js';
import { repoRoot } from '../bake/helpers.js';

describe('startOverrides', () => {
  it('recorder-lb: the list-file backend, the same destinations (ports, weights) on the check loopback address', async () => {
    const { image } = await loadImageOrThrow(repoRoot, 'recorder-lb');
    const o = startOverrides(image, '127.9.8.7') as { dispatcher: { backend: unknown; destinations: { host: string; port: number }[] } };
    expect(o.dispatcher.backend).toEqual({ type: 'file' });
    expect(o.dispatcher.destinations.map((d) => `${d.host}:${d.port}`)).toEqual(['127.9.8.7:5060', '127.9.8.7:5080']);
  });

  it('twilio-relay starts as written', async () => {
    const { image } = await loadImageOrThrow(repoRoot, 'twilio-relay');
    expect(startOverrides(image, '127.9.8.7')).toBeUndefined();
  });
});
