// The package's library entry (`import { SipbakeFleet } from 'sipbake'`): the CDK construct for users' own apps.
export { SipbakeFleet, type SipbakeFleetProps } from './fleet.js';
export type { FleetNetworkProps, NewNetwork, ExistingNetwork } from './network.js';
export { fleetStack, synthesizeFleet } from './synth.js';
export { loadImageOrThrow } from '../definition/load.js';
