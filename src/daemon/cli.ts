// `msta-edge <command> [options]`: one file per command in ./commands, listed here.
import { exitCodeOf, isMstaError } from '../errors.js';
import { commandHelp, type Command, type CommandContext } from './commands/command.js';
import { VERSION } from './version.js';

// Loaded on demand: check-config need not load onnxruntime, GStreamer and MQTT to validate a file.
export const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  'check-config': async () => (await import('./commands/check-config.js')).checkConfigCommand,
  schema: async () => (await import('./commands/schema.js')).schemaCommand,
  tokenize: async () => (await import('./commands/tokenize.js')).tokenizeCommand,
  'source-probe': async () => (await import('./commands/source-probe.js')).sourceProbeCommand,
  probe: async () => (await import('./commands/probe.js')).probeCommand,
  record: async () => (await import('./commands/record.js')).recordCommand,
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const lines = commands.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`);
  return `usage: msta-edge <command> [options]\n       msta-edge <command> --help   that command's options\n       msta-edge --version\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs one command; returns the process exit code (0 ok, 1 runtime failure, 2 usage, config or input error). */
export async function runCli(argv: string[], context: CommandContext = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`msta-edge ${VERSION}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`msta-edge: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(await load()));
    return 0;
  }
  try {
    return await (await load()).run(rest, context);
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
