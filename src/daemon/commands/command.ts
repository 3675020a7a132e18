import { parseArgs } from 'node:util';
import { MstaError } from '../../errors.js';
import type { SignalRouter } from '../signals.js';

export interface CommandContext {
  /** The process's signals, installed by main before anything loaded; a long-running command claims them. */
  signals?: SignalRouter;
}

/** One option of a command: how it is parsed (node's parseArgs) and how --help lists it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string;
  /** The value's placeholder in --help: FILE, URL, N. */
  value?: string;
  help: string;
}

export type OptionTable = Record<string, OptionSpec>;

export interface Command {
  name: string;
  summary: string;
  /** The one table the command parses its options with and --help lists. */
  options: OptionTable;
  /** Returns the exit code. */
  run(argv: string[], context: CommandContext): Promise<number>;
}

/** node's parseArgs on a command's table, with usage mistakes turned into a CLI_USAGE error that names the command. */
export function parseCommandArgs<T extends OptionTable>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new MstaError('CLI_USAGE', (e as Error).message, { where: command });
  }
}

/** `msta-edge <command> --help`: the summary, then every option of the table, aligned. */
export function commandHelp(command: Command): string {
  const rows = Object.entries(command.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    const notes = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : ''].filter(Boolean);
    return [flag, `${o.help}${notes.length ? ` [${notes.join('; ')}]` : ''}`] as const;
  });
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return `usage: msta-edge ${command.name}${Object.keys(command.options).length ? ' [options]' : ''}\n\n${command.summary}\n\noptions:\n${rows
    .map(([flag, help]) => `  ${flag.padEnd(width)}${help}`)
    .join('\n')}\n`;
}
