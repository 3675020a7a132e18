import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../../config/json-schema.js';
import { PAYLOAD_SCHEMAS, payloadJsonSchema } from '../../sink/payload-schemas.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const OPTIONS = {
  mqtt: { type: 'string', value: 'DIR', help: 'write the MQTT payload JSON Schemas into DIR instead (npm run schemas: docs/schemas)' },
} satisfies OptionTable;

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the config's JSON Schema (for editors' YAML completion); --mqtt DIR writes the MQTT payload schemas there",
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs('schema', argv, OPTIONS);
    if (values.mqtt === undefined) {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    }
    mkdirSync(values.mqtt, { recursive: true });
    for (const name of Object.keys(PAYLOAD_SCHEMAS) as (keyof typeof PAYLOAD_SCHEMAS)[]) {
      writeFileSync(join(values.mqtt, `${name}.schema.json`), `${JSON.stringify(payloadJsonSchema(name), null, 2)}\n`);
    }
    return 0;
  },
};
