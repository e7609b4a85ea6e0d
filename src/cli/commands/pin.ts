import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'pin <component> <version>',
  describe: 'Pin a source (kamailio, rtpproxy) in scripts/pins.env',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake pin` is not available in this build yet');
  },
});
