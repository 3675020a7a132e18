import { configJsonSchema } from '../../config/json-schema.js';
import { parseCommandArgs, type Command } from './command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the config's JSON Schema (for editors' YAML completion)",
  options: {},
  async run(argv) {
    parseCommandArgs('schema', argv, this.options);
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  },
};
