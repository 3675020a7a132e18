import { configJsonSchema } from '../../config/json-schema.js';
import { parseCommandArgs, type Command } from './command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the config's JSON Schema (for editors' YAML completion)",
  async run(argv) {
    parseCommandArgs('schema', argv, {});
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  },
};
