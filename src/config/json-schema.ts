import { z } from 'zod';
import { configSchema } from './schema.js';

/** The config's JSON Schema (input side: defaults optional), for editors' YAML completion. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'msta-edge configuration',
  };
}
