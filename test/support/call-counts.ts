// One CallCounts fixture for the rehearsal's summary tests: every count 0 unless given.
import type { CallCounts } from '../../src/rehearse/types.js';

export function callCounts(p: Partial<CallCounts> = {}): CallCounts {
  return {
    placed: 0,
    completed: 0,
    dropped: 0,
    refused: 0,
    unanswered: 0,
    unplaced: 0,
    cutByRehearsal: 0,
    answeredAfterRetransmission: 0,
    callerBye: 0,
    calleeBye: 0,
    ...p,
  };
}
