// Entry point of `msta-edge`: parses the command line and runs one command.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
