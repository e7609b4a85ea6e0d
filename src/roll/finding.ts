// A preflight finding and what a check sees (pure): shared by the general checks (preflight.ts), the drain timing
// checks (preflight-drain.ts) and the roll's own guards (guards.ts).
import type { DeployConfig } from '../definition/deploy-schema.js';
import type { Observed } from './types.js';

type FindingLevel = 'refuse' | 'warn' | 'act' | 'ok';

export interface Finding {
  check: string;
  level: FindingLevel;
  message: string;
  fix?: string;
}

export interface PreflightInput {
  obs: Observed;
  image: string;
  deploy: DeployConfig;
  drainMaxSeconds: number;
  /** The AMI requested; `obs.target` is what EC2 said about it. */
  amiId: string;
  /** The image relays RTP itself (RTPProxy): the NLB's flow cut at the end of the delay would cut audio. Default true. */
  mediaAnchored?: boolean;
  /** drain.pollSeconds: how late the agent sees its lifecycle action. Default 5. */
  drainPollSeconds?: number;
}

export type Check = (i: PreflightInput) => Finding | undefined;

export const refuse = (check: string, message: string, fix: string): Finding => ({
  check,
  level: 'refuse',
  message,
  fix,
});
export const ok = (check: string, message: string): Finding => ({ check, level: 'ok', message });
