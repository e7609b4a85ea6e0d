import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SCENARIO_DIR, shippedScenarios } from '../../src/try/scenario-files.js';
import { loopbackNet } from '../../src/try/plan.js';
import { sippCommand } from '../../src/try/run.js';

describe('try: shipped SIPp scenarios and --address', () => {
  it('share/sipp holds exactly what sipp-scenarios.ts generates (npm run sipp-scenarios)', async () => {
    for (const [name, text] of Object.entries(shippedScenarios())) expect(await readFile(path.join(SCENARIO_DIR, name), 'utf8'), name).toBe(text);
  });

  it('the printed caller follows Record-Route: the UAC scenario sends ACK and BYE with [routes] to [next_url]', async () => {
    const cmd = sippCommand('127.0.20.2:5070', '127.0.20.20');
    const file = cmd.match(/-sf (\S+)/)![1]!;
    const xml = await readFile(file, 'utf8');
    expect(xml).toMatch(/rrs="true"/);
    expect(xml.match(/\[routes\]/g)).toHaveLength(2);
    expect(cmd).not.toContain('-sn uac');
  });

  it.each([
    ['127.0.30.0/24', '127.0.30'],
    ['127.0.30', '127.0.30'],
    ['127.0.30.7', '127.0.30'],
    ['127.1.2.0/16', '127.1.2'],
    ['10.0.0.0/24', undefined],
    ['127.0.300.0/24', undefined],
    ['127.0.30.0/30', undefined],
    ['localhost', undefined],
  ])('--address %s → %s', (a, net) => {
    expect(loopbackNet(a)).toBe(net);
  });
});
