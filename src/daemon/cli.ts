// `msta-edge <command> [options]`: one file per command in ./commands, listed here.
import { exitCodeOf, isMstaError } from '../errors.js';
import type { Command } from './commands/command.js';
import { checkConfigCommand } from './commands/check-config.js';
import { schemaCommand } from './commands/schema.js';
import { runCommand } from './commands/run.js';
import { probeCommand } from './commands/probe.js';
import { sourceProbeCommand } from './commands/source-probe.js';
import { tokenizeCommand } from './commands/tokenize.js';

const COMMANDS: Command[] = [runCommand, checkConfigCommand, schemaCommand, tokenizeCommand, sourceProbeCommand, probeCommand];

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`);
  return `usage: msta-edge <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs one command; returns the process exit code (0 ok, 1 runtime failure, 2 usage, config or input error). */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`msta-edge: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (isMstaError(e)) {
      process.stderr.write(`msta-edge ${name}: ${e.code}: ${e.message}\n`);
      return exitCodeOf(e);
    }
    // A bug, not a user's mistake: one line, the stack on request.
    const error = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`msta-edge ${name}: internal error: ${error.message}${process.env.MSTA_EDGE_DEBUG ? `\n${error.stack}` : ' (MSTA_EDGE_DEBUG=1 shows the stack)'}\n`);
    return 1;
  }
}
