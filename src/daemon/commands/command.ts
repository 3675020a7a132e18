import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MstaError } from '../../errors.js';
import type { SignalRouter } from '../signals.js';

export interface CommandContext {
  /** The process's signals, installed by main before anything loaded; a long-running command claims them. */
  signals?: SignalRouter;
}

export interface Command {
  name: string;
  summary: string;
  /** Returns the exit code. */
  run(argv: string[], context: CommandContext): Promise<number>;
}

/** node's parseArgs, with usage mistakes turned into a CLI_USAGE error that names the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new MstaError('CLI_USAGE', (e as Error).message, { where: command });
  }
}
