// Both seed images carry a deploy: section that `sipbake roll --plan` accepts against the fake (issue 13 item 4),
// with IAM evaluation as the roll role of that image.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';

const root = path.resolve(import.meta.dirname, '../..');
let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('seed images: deploy sections', () => {
  it.each(['twilio-relay', 'recorder-lb'])('%s: roll --plan accepts its group (no refusal, no warning) and changes nothing', async (image) => {
    const { image: def } = await loadImageOrThrow(root, image);
    const deploy = def.deploy!;
    expect(deploy).toBeDefined();
    expect(deploy.lifecycleHook.name).toBe('sipbake-drain');
    const fake = new FakeAws({ iam: { role: 'roll', image } });
    seedWorld(fake, {
      image,
      asgName: deploy.asgName,
      targetGroupArn: deploy.targetGroupArns[0]!,
      hookName: deploy.lifecycleHook.name,
      heartbeat: def.drain.maxSeconds + 60,
      deregistrationDelay: def.drain.maxSeconds,
    });
    restore = installFakeAws(fake);
    const reporter = new RecordingReporter(true);
    const code = await main(['roll', image, '--plan', '--json', '--root', root], {
      reporter,
      env: {},
      signal: new AbortController().signal,
    });
    const plan = (reporter.results[0] as { plan: { mode: string; findings: { level: string; check: string; message: string }[] } }).plan;
    expect(code, JSON.stringify(plan.findings.filter((f) => f.level !== 'ok'))).toBe(0);
    expect(plan.findings.filter((f) => f.level === 'refuse' || f.level === 'warn')).toEqual([]);
    expect(fake.calls.filter((c) => !/^Describe/.test(c.command))).toEqual([]);
    expect(fake.iam!.denials).toEqual([]);
  });
});
