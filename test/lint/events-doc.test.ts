// docs/events.md is generated from the event registry: a changed event without `npm run docs:events` fails here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS_DOC, eventsMarkdown } from '../../src/core/events-doc.js';
import { EVENTS } from '../../src/core/events.js';
import { RecordingReporter } from '../../src/core/reporter.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('docs/events.md', () => {
  it('is what the registry generates (run npm run docs:events after changing src/core/events.ts)', async () => {
    expect(await readFile(path.join(root, EVENTS_DOC), 'utf8')).toBe(eventsMarkdown());
  });

  it('documents every event code and field of the registry', () => {
    const md = eventsMarkdown();
    for (const [code, d] of Object.entries(EVENTS)) {
      expect(md).toContain(`## \`${code}\``);
      for (const field of Object.keys(d.fields)) expect(md).toContain(`| \`${field}\` |`);
    }
  });

  it('is the only thing Reporter.event takes (npm run typecheck checks the @ts-expect-error lines)', () => {
    const r = new RecordingReporter();
    // @ts-expect-error an event code the registry does not have
    r.event({ event: 'stage-ish', stage: 'x' });
    // @ts-expect-error a stage event in the build's old shape (status instead of state)
    r.event({ event: 'stage', stage: 'x', status: 'done' });
    r.event({ event: 'stage', stage: 'x', state: 'done' });
    expect(r.events).toHaveLength(3);
  });
});
