// The live-test toolkit. Everything here starts real processes or sockets on 127.0.0.0/8 and stops
// them by itself (stop()/remove()); see README.md in this folder for the API and its guarantees.
export { freePort, freePorts } from '../../src/try/ports.js';
export { startProcess, stopAll, ManagedProcess, type Exit } from '../../src/try/process.js';
export { startKamailio, kamailioArgv, isBound, type Listener, type KamailioOptions } from '../../src/try/kamailio.js';
export {
  startSipp,
  sippArgv,
  sippFiles,
  readMessages,
  readStats,
  parseMessageLog,
  parseStats,
  type SippOptions,
  type SippFiles,
  type LoggedMessage,
  type SippStats,
} from '../../src/try/sipp.js';
export { uacScenario, uasScenario } from '../../src/try/sipp-scenarios.js';
export { makeTmpDir, type TmpDir } from './tmp.js';
export { startPostgres, type Postgres } from './postgres.js';
export { seedDefinition, renderDefinition, merge, REPO_ROOT, type RenderedImage } from './image.js';
export { runCalls, startUas, type CallRun, type Uas } from './calls.js';
