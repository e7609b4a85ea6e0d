import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'check [images..]',
  describe: 'Render with --local and run the real `kamailio -c` on the result',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake check` is not available in this build yet');
  },
});
