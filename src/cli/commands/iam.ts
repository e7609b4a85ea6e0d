import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'iam <role>',
  describe: 'Print a least-privilege IAM policy for build or roll',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake iam` is not available in this build yet');
  },
});
