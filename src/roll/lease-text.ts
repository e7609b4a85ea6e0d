// What a refused roll says about the lease holder (pure).
import type { Lease } from './tags.js';

export function leaseHeldMessage(l: Lease, asgName: string, image: string): { message: string; fix: string } {
  return {
    message: `another roll holds ${asgName}: ${l.owner} since ${l.startedAt} (lease expires ${l.expiresAt})`,
    fix: `wait for it (sipbake status ${image}), or stop it (Ctrl-C in its terminal, cancel its CI job: it releases the lease); if that roll is dead, its lease expires at ${l.expiresAt}, or release it: sipbake unlock ${image}`,
  };
}
