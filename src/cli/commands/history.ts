import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

// Placeholder: replaced by the work that owns this command.
export default defineCommand({
  command: 'history <image>',
  describe: "List this image's AMIs, newest first",
  builder: (y) => y,
  run: async () => {
    throw new UserError('`sipbake history` is not available in this build yet');
  },
});
