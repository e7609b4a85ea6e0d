// --break on the second image's Kamailio configuration, the same for both launchers (fleet.ts, baked-instance.ts).
import type { BreakKind } from './types.js';

/** The configuration made unusable (start) or refusing every request (503); any other kind leaves it as it is. */
export function breakConfig(cfg: string, kind: BreakKind): string {
  if (kind === 'start') return `${cfg}\n# --break start: not a configuration Kamailio accepts\nthis is not kamailio.cfg syntax;\n`;
  if (kind === '503') return cfg.replace(/^request_route \{\n/m, 'request_route {\n\t# --break 503\n\tsl_send_reply("503", "Service Unavailable");\n\texit;\n');
  return cfg;
}
