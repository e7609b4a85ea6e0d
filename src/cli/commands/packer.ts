import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'packer',
  describe: 'Generate packer.pkr.hcl at the repository root',
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake packer` is not available in this build yet');
  },
});
