// Runs the real CLI entry (main() with its own SIGINT/SIGTERM handling, the terminal renderer when on a TTY)
// against the stateful AWS fake, for tests that drive it under a pseudo-terminal (`script`).
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { main } from '../../src/cli/main.js';

installFakeAws(new FakeAws());
process.exitCode = await main(process.argv.slice(2));
