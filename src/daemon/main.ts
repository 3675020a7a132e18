// Entry point of `msta-edge`: signal handlers first (before the modules load, which takes a
// while), then parses the command line and runs one command.
import { installSignalRouter } from './signals.js';

const signals = installSignalRouter();
const { runCli } = await import('./cli.js');
process.exitCode = await runCli(process.argv.slice(2), { signals });
