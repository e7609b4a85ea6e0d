import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { seed, tempRoot, variant } from './fixtures.js';

// Every rendered image and variant must be accepted by the real Kamailio (Debian 5.6.3).
type Def = Record<string, unknown>;

function withBackend(def: Def, backend: object): Def {
  const out = structuredClone(def);
  (out.dispatcher as Def).backend = backend;
  return out;
}

let root: string;
let cleanup: () => Promise<void>;
const images: Record<string, Def> = {};

beforeAll(async () => {
  const relay = await seed('twilio-relay');
  const rec = await seed('recorder-lb');
  const tls = { tls: { enabled: true, maxConnections: 1024 }, listen: { tls: 5061 } };
  Object.assign(images, {
    'twilio-relay': relay,
    'recorder-lb': rec,
    'relay-tls': variant(relay, { name: 'relay-tls', ...tls }),
    'relay-jsonrpc-debugger': variant(relay, {
      name: 'relay-jsonrpc-debugger',
      diagnostics: { jsonrpc: true, debugger: true, debugLevel: 3, log: 'stderr' },
    }),
    'relay-drop-noflood': variant(relay, {
      name: 'relay-drop-noflood',
      relay: { onDisallowed: 'drop', allowedSources: ['10.0.0.0/8'] },
      antiflood: { enabled: false },
    }),
    'recorder-file': withBackend(variant(rec, { name: 'recorder-file' }), { type: 'file' }),
    'recorder-postgres-tls': variant(rec, { name: 'recorder-postgres-tls', ...tls, listen: { tls: 5081 } }),
    // nathelper.keepalive is gone (nothing registers, so it pinged nothing); the data-plane options instead.
    'recorder-nomedia-open': withBackend(
      variant(rec, {
        name: 'recorder-nomedia-open',
        media: { rtpproxy: { enabled: false } },
        diagnostics: { jsonrpc: false },
        dispatcher: { initialMethods: ['INVITE', 'MESSAGE', 'OPTIONS'] },
        antiflood: { exemptUpstream: false, requestsDensity: 1000 },
      }),
      { type: 'file' },
    ),
    'relay-widened': variant(relay, {
      name: 'relay-widened',
      relay: { initialMethods: ['INVITE', 'OPTIONS', 'INFO'], stripHeaders: [] },
      capacity: { callsPerSecond: 2000 },
    }),
  });
  ({ root, cleanup } = await tempRoot(images));
});
afterAll(async () => cleanup?.());

async function check(...args: string[]): Promise<{ code: number; out: RecordingReporter }> {
  const out = new RecordingReporter();
  const code = await main(['check', ...args, '--root', root], { reporter: out });
  return { code, out };
}

describe('kamailio -c on rendered images', () => {
  it.each([
    'twilio-relay',
    'recorder-lb',
    'relay-tls',
    'relay-jsonrpc-debugger',
    'relay-drop-noflood',
    'recorder-file',
    'recorder-postgres-tls',
    'recorder-nomedia-open',
    'relay-widened',
  ])('%s passes', async (name) => {
    const { code, out } = await check(name);
    expect(out.text()).toContain(`images/${name}.yaml: kamailio -c ok`);
    expect(code).toBe(0);
  });

  it("fails with Kamailio's own message when a template is broken", async () => {
    const tpl = path.join(root, 'templates/kamailio/kamailio.cfg.eta');
    const good = await readFile(tpl, 'utf8');
    try {
      await writeFile(tpl, good.replace('route(REQINIT);', 'route(REQINIT);\n\tno_such_function_xyz();'));
      const { code, out } = await check('twilio-relay');
      expect(code).toBe(1);
      const errors = out.lines
        .filter((l) => l.level === 'error')
        .map((l) => l.message)
        .join('\n');
      expect(errors).toContain('kamailio rejected the rendered config');
      expect(errors).toMatch(/no_such_function_xyz|unknown command|parse error/);
    } finally {
      await writeFile(tpl, good);
    }
  });
});

describe('check --start', () => {
  it('starts the images until their control sockets answer (jsonrpc, rtpproxy, dispatcher from a file)', async () => {
    const { code, out } = await check('twilio-relay', 'recorder-file', '--start');
    expect(out.text()).toContain('images/recorder-file.yaml: kamailio -c and start-up ok');
    expect(out.text()).toContain('images/twilio-relay.yaml: kamailio -c and start-up ok');
    expect(code).toBe(0);
  });

  it('starts a postgres image on the list-file backend, as try does (its sample database host does not resolve)', async () => {
    const { code, out } = await check('recorder-lb', '--start');
    expect(out.text()).toMatch(/images\/recorder-lb\.yaml: start-up use/);
    expect(code, out.text()).toBe(0);
  });

  it('catches a module start-up error that kamailio -c passes', async () => {
    const tpl = path.join(root, 'templates/kamailio/kamailio.cfg.eta');
    const good = await readFile(tpl, 'utf8');
    try {
      // jsonrpcs transport 1 is HTTP only and needs xhttp: -c accepts it, start-up does not.
      await writeFile(tpl, good.replace('modparam("jsonrpcs", "transport", 2)', 'modparam("jsonrpcs", "transport", 1)'));
      expect((await check('recorder-file')).code).toBe(0);
      const { code, out } = await check('recorder-file', '--start');
      expect(code).toBe(1);
      expect(
        out.lines
          .filter((l) => l.level === 'error')
          .map((l) => l.message)
          .join('\n'),
      ).toMatch(/jsonrpcs[\s\S]*xhttp|xhttp[\s\S]*jsonrpcs/);
    } finally {
      await writeFile(tpl, good);
    }
  });
});
