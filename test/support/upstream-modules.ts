// The Kamailio module set the shared test binary must carry: the union, over both seeds, of what modulesFor()
// loads with every optional feature switched on (TLS, JSON-RPC, debugger, antiflood, RTPProxy, a PostgreSQL
// dispatcher). One binary then serves every live suite. Printed space-separated, sorted, for .ci/upstream.sh.
import { listImages, loadImage } from '../../src/definition/load.js';
import { modulesFor } from '../../src/render/view.js';
import type { ImageDefinition } from '../../src/definition/schema.js';
import { REPO_ROOT } from './image.js';

/** Every option on; modulesFor reads only the flags, so the variant need not be a valid definition. */
function everythingOn(img: ImageDefinition): ImageDefinition[] {
  const all = {
    ...img,
    tls: { ...img.tls, enabled: true },
    diagnostics: { ...img.diagnostics, jsonrpc: true, debugger: true },
    antiflood: { ...img.antiflood, enabled: true },
    media: { ...img.media, rtpproxy: { ...img.media.rtpproxy, enabled: true } },
  } as ImageDefinition;
  const dispatcher = img.dispatcher ?? ({ backend: { type: 'postgres' } } as unknown as ImageDefinition['dispatcher']);
  return [img, all, { ...all, dispatcher: { ...dispatcher, backend: { type: 'postgres' } } } as ImageDefinition];
}

export async function testModuleSet(): Promise<string[]> {
  const set = new Set<string>();
  for (const name of await listImages(REPO_ROOT)) {
    const r = await loadImage(REPO_ROOT, name, { local: true });
    if (!r.ok) throw new Error(`images/${name}.yaml does not load: ${r.issues.map((i) => i.message).join('; ')}`);
    for (const v of everythingOn(r.image)) for (const m of modulesFor(v)) set.add(m);
  }
  return [...set].sort();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  console.log((await testModuleSet()).join(' '));
}
