import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'render <image>',
  describe: 'Render an image into a root-filesystem tree',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake render` is not available in this build yet');
  },
});
