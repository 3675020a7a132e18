// `msta-edge <command> [options]`: one file per command in ./commands, listed here.
import { isMstaError } from '../errors.js';
import type { Command } from './commands/command.js';
import { checkConfigCommand } from './commands/check-config.js';
import { schemaCommand } from './commands/schema.js';
import { runCommand } from './commands/run.js';
import { probeCommand } from './commands/probe.js';
import { sourceProbeCommand } from './commands/source-probe.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { recordCommand } from './commands/record.js';

const COMMANDS: Command[] = [runCommand, checkConfigCommand, schemaCommand, tokenizeCommand, sourceProbeCommand, probeCommand, recordCommand];

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`);
  return `usage: msta-edge <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs one command; returns the process exit code (0 ok, 1 runtime failure, 2 usage or config error). */
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
      return e.code === 'CLI_USAGE' || e.code.startsWith('CONFIG_') ? 2 : 1;
    }
    throw e;
  }
}
