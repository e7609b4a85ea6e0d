import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'status <image>',
  describe: 'Show the live AMI and the instance refresh state',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake status` is not available in this build yet');
  },
});
