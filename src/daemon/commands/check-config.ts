import { loadConfigFile } from '../../config/load-config.js';
import { redactUrl } from '../../redact.js';
import { MstaError } from '../../errors.js';
import { streamKey } from '../../types.js';
import { prepareConfig } from '../validate-config.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the config file to validate (required)' },
} satisfies OptionTable;

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a config as run would (schema, bundle, labels, files, listen address): exit 0, or 2 with every error',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs('check-config', argv, OPTIONS);
    if (!values.config) throw new MstaError('CLI_USAGE', '--config FILE is required', { where: 'check-config' });
    // The same checks as run, so "ok" means run accepts it (nothing is connected to).
    const { config, bundle, labelSet, cameraLabelSets, regionLabelSets } = await prepareConfig(loadConfigFile(values.config), values.config);
    // A camera (and a region) with labels of its own says how many it watches for.
    const own = (c: (typeof config.cameras)[number]): string => {
      const set = cameraLabelSets.get(c.id);
      const regions = c.regions.flatMap((r) => {
        const rs = regionLabelSets.get(streamKey(c.id, r.name));
        return rs && rs !== set ? [`region ${r.name}: ${rs.labels.length} label(s) of its own`] : [];
      });
      return [...(set && set !== labelSet ? [`${set.labels.length} label(s) of its own`] : []), ...regions].map((s) => `, ${s}`).join('');
    };
    const cameras = config.cameras.map((c) => `${c.id} (${redactUrl(c.url ?? '')}${own(c)})`);
    process.stdout.write(
      `${values.config}: ok, ${config.cameras.length} camera(s)${cameras.length ? `: ${cameras.join(', ')}` : ''}; ` +
        `model ${bundle.manifest.name}; ${labelSet.labels.length} label(s)\n`,
    );
    return 0;
  },
};
