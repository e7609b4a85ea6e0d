import { z } from 'zod';
import { port, reasonPhrase, seconds } from './primitives.js';

// Owned by the drain work (issue 7). How an instance leaves without dropping calls. The lifecycle hook the agent
// completes is named once, in deploy.lifecycleHook.name (deploy-schema.ts).

export const drainFields = {
  maxSeconds: seconds(1).max(7200).default(900).describe('Longest an instance waits for its calls to end before it lets Auto Scaling terminate it'),
  newInvites: z
    .strictObject({
      code: z.number().int().min(300).max(699).default(503).describe('SIP status sent to new out-of-dialog INVITEs while draining'),
      reason: reasonPhrase.default('Service Unavailable - draining').describe('Reason phrase of that reply: printable ASCII without ", \\ or $'),
      retryAfter: seconds(0).max(3600).default(30).describe('Retry-After header value; 0 omits the header'),
    })
    .prefault({})
    .describe('What a new INVITE gets while the instance drains'),
  healthCheck: z
    .strictObject({
      port: port.default(8090).describe('TCP port the NLB health-checks; served by the drain agent while Kamailio is up'),
      behaviour: z
        .enum(['close', 'refuse'])
        .default('close')
        .describe(
          'close: stop listening when the drain starts (fails TCP and HTTP checks); refuse: keep listening but reset every connection (fails HTTP checks only)',
        ),
    })
    .prefault({}),
  pollSeconds: seconds(1).max(60).default(5).describe('How often the agent reads the lifecycle state and the dialog count'),
  heartbeatTimeoutSeconds: seconds(30)
    .max(7200)
    .default(120)
    .describe("Used only when the agent cannot read the hook's HeartbeatTimeout: it heartbeats every half of this while it waits"),
};

export const drainSchema = z.strictObject(drainFields).prefault({});
export type DrainConfig = z.infer<typeof drainSchema>;
