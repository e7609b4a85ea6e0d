// One call into the region, the same way whoever carries it (the in-process SDK mock, the wire server): recorded in
// `region.calls`, authorized by `region.iam` when one is plugged in, passed through `region.faults`, then served by
// the region's handler. The answer is a copy, so the caller cannot reach into the model's state.
import { awsError } from '../faults.js';
import type { Region } from '../region.js';
import { WIRE_SERVICES, type Handlers, type ServiceName } from './services.js';

const cache = new WeakMap<Region, Partial<Record<ServiceName, Handlers>>>();

export function handlersOf(region: Region, service: ServiceName): Handlers {
  const mine = cache.get(region) ?? {};
  cache.set(region, mine);
  return (mine[service] ??= WIRE_SERVICES[service].handlers(region));
}

export interface RegionCall {
  service: ServiceName;
  command: string;
  input: Record<string, unknown>;
  /** The region the caller signed for (its client's region): IAM evaluates aws:RequestedRegion against it. */
  signedRegion: string;
}

export function notModelled(service: ServiceName, command: string): Error {
  return awsError('NotImplementedByFake', `the AWS region model does not model the ${service} command ${command}; add it in src/region/handlers-*.ts`);
}

export async function dispatch(region: Region, c: RegionCall): Promise<unknown> {
  const handler = handlersOf(region, c.service)[c.command];
  if (!handler) throw notModelled(c.service, c.command);
  region.calls.push({ service: c.service, command: c.command, input: structuredClone(c.input), atMs: region.nowMs });
  if (region.iam) await region.iam.authorize({ fake: region, service: c.service, command: c.command, input: c.input, region: c.signedRegion });
  region.faults.check(c.command, region.nowMs);
  region.throttle.take(c.service, c.command, region.nowMs);
  return structuredClone(handler(c.input));
}
