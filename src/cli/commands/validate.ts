import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'validate [images..]',
  describe: 'Validate image definitions (all under images/ when none named)',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake validate` is not available in this build yet');
  },
});
