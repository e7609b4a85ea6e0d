import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'build <image>',
  describe: 'Bake the golden AMI (skips when an AMI of the same content exists)',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake build` is not available in this build yet');
  },
});
