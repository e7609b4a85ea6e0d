// A bake's directory: what a local bake refuses to replace. systemd-nspawn's `.#root.lck` is left behind by a killed
// boot (seen after a killed `rehearse --baked`: the next bake of that image refused to replace its root).
// Negative control: without the `.#root.lck` clause in foreignFiles the first test fails.
import { describe, expect, it } from 'vitest';
import { foreignFiles } from '../../src/bake/local/index.js';

describe('local bake: files it did not write', () => {
  it("counts systemd-nspawn's lock of the root, the root, its log, record and temporary roots as its own", () => {
    expect(foreignFiles(['root', 'bake.log', 'sipbake-local.json', 'root.tmp-123', '.#root.lck'])).toEqual([]);
  });

  it('refuses anything else, another lock file included', () => {
    expect(foreignFiles(['root', 'notes.txt', '.#other.lck'])).toEqual(['notes.txt', '.#other.lck']);
  });
});
