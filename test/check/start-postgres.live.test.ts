// check --start on the shipped recorder-lb (issue 23): its sample database host (database.example.com) does not
// resolve, so start-up runs on the list-file backend as under try; `kamailio -c` still checks the image as written.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { repoRoot } from '../bake/helpers.js';

describe('check --start with a postgres dispatcher backend', () => {
  it('starts the shipped recorder-lb with the list file and says so', async () => {
    const out = new RecordingReporter(false);
    const code = await main(['check', 'recorder-lb', '--start'], { reporter: out, cwd: repoRoot, signal: new AbortController().signal });
    const text = out.text();
    expect(text).toContain('start-up uses the list-file backend instead of PostgreSQL');
    expect(text).toContain('images/recorder-lb.yaml: kamailio -c, and start-up with the list-file backend ok');
    expect(code, text).toBe(0);
  });
});
