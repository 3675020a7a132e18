import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../../config/json-schema.js';
import { PAYLOAD_SCHEMAS, payloadJsonSchema } from '../../sink/payload-schemas.js';
import { parseCommandArgs, type Command } from './command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the config's JSON Schema (for editors' YAML completion); --mqtt DIR writes the MQTT payload schemas there",
  async run(argv) {
    const { values } = parseCommandArgs('schema', argv, { mqtt: { type: 'string' } });
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
