// Shared by the hot-swap tests: the daemon's config on one camera, and bundles made from the
// committed one.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const BUNDLE = resolve('models/synthetic-actions');
export const DEMO = resolve('models/demo/actions-demo.mp4');

/** A copy of the committed bundle under another name (another bundle.json: another model identity), bundle.json edited by `edit`. */
export function renamedBundle(dir: string, name: string, corrupt = false, edit: (manifest: Record<string, unknown>) => void = () => {}): string {
  const out = join(dir, name);
  cpSync(BUNDLE, out, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8')) as Record<string, unknown>;
  manifest.name = name;
  edit(manifest);
  writeFileSync(join(out, 'bundle.json'), JSON.stringify(manifest, null, 1));
  if (corrupt) writeFileSync(join(out, 'text.onnx'), 'not a graph');
  return out;
}

/** msta-edge.yaml: camera `desk` (or `camera`) on the looped demo video (or `url`), the bundle, debug JSON logs. */
export function swapConfig(file: string, bundle: string, mqttUrl: string, url = DEMO, camera = 'desk'): void {
  writeFileSync(
    file,
    [
      'cameras:',
      `  - id: ${camera}`,
      `    url: ${url}`,
      ...(url === DEMO ? ['    loop: true'] : []),
      'model:',
      `  bundle: ${bundle}`,
      '  providers: [cpu]',
      'labels:',
      '  background: nothing happening',
      'recognition:',
      '  stride: 2',
      '  start: 0.5',
      '  end: 0.3',
      '  min_clips: 2',
      'mqtt:',
      `  url: ${mqttUrl}`,
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      '  level: debug',
      '',
    ].join('\n'),
  );
}
