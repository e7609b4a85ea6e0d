import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

// Dispatcher destinations by name: Kamailio resolves them once at start and drops one that does not
// resolve ("pack_dest(): could not resolve", 1 destination of 2 loaded, and it runs on). Boot resolves
// them first, so that an unresolvable recorder fails the boot loudly instead.

export type Lookup = (host: string) => Promise<string[]>;

export const systemLookup: Lookup = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface Unresolved {
  host: string;
  error: string;
}

/** Resolves every name (addresses pass as they are); returns the ones that did not resolve. */
export async function unresolvedHosts(hosts: readonly string[], look: Lookup = systemLookup): Promise<Unresolved[]> {
  const names = hosts.filter((h) => isIP(h) === 0);
  const results = await Promise.all(
    names.map(async (host): Promise<Unresolved | undefined> => {
      try {
        const addrs = await look(host);
        return addrs.length > 0 ? undefined : { host, error: 'no address' };
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return { host, error: typeof code === 'string' ? code : e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  return results.filter((r): r is Unresolved => r !== undefined);
}
