import { loadConfigFile } from '../../config/load-config.js';
import { redactUrl } from '../../redact.js';
import { MstaError } from '../../errors.js';
import { prepareConfig } from '../validate-config.js';
import { parseCommandArgs, type Command } from './command.js';

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a config as run would (schema, bundle, labels, files, listen address): exit 0, or 2 with every error',
  async run(argv) {
    const { values } = parseCommandArgs('check-config', argv, { config: { type: 'string', short: 'c' } });
    if (!values.config) throw new MstaError('CLI_USAGE', '--config FILE is required', { where: 'check-config' });
    // The same checks as run, so "ok" means run accepts it (nothing is connected to).
    const { config, bundle, labelSet } = await prepareConfig(loadConfigFile(values.config), values.config);
    const cameras = config.cameras.map((c) => `${c.id} (${redactUrl(c.url ?? '')})`);
    process.stdout.write(
      `${values.config}: ok, ${config.cameras.length} camera(s)${cameras.length ? `: ${cameras.join(', ')}` : ''}; ` +
        `model ${bundle.manifest.name}; ${labelSet.labels.length} label(s)\n`,
    );
    return 0;
  },
};
