import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'try <image>',
  describe: 'Start the rendered image on loopback with fake peers to poke at',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake try` is not available in this build yet');
  },
});
