import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'roll <image>',
  describe: 'Roll the ASG onto a new AMI with a health-gated instance refresh',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake roll` is not available in this build yet');
  },
});
