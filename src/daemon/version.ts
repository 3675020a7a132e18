// The version of msta-edge, from its package.json (src/daemon and dist/daemon are both two levels down).
import { readFileSync } from 'node:fs';

export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
