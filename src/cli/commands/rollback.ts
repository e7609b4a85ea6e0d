import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'rollback <image>',
  describe: 'Roll the ASG back to a pinned earlier AMI',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake rollback` is not available in this build yet');
  },
});
