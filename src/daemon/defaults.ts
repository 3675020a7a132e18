// Embedded defaults: what `msta-edge run` uses with no config (the demo), found beside the code in
// a checkout or an installed package (src/daemon and dist/daemon are both two levels down).
import { fileURLToPath } from 'node:url';

export const DEMO_BUNDLE = fileURLToPath(new URL('../../models/synthetic-actions', import.meta.url));
export const DEMO_VIDEO = fileURLToPath(new URL('../../models/demo/actions-demo.mp4', import.meta.url));
