import { loadConfigFile } from '../../config/load-config.js';
import { redactUrl } from '../../redact.js';
import { MstaError } from '../../errors.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the config file to validate (required)' },
} satisfies OptionTable;

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a config file: exit 0, or 2 with every error and its YAML path',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs('check-config', argv, OPTIONS);
    if (!values.config) throw new MstaError('CLI_USAGE', '--config FILE is required', { where: 'check-config' });
    const config = loadConfigFile(values.config);
    const cameras = config.cameras.map((c) => `${c.id} (${redactUrl(c.url ?? '')})`);
    process.stdout.write(`${values.config}: ok, ${config.cameras.length} camera(s)${cameras.length ? `: ${cameras.join(', ')}` : ''}\n`);
    return 0;
  },
};
