// A copy of the test bundle whose video graph fails, stalls or is heavy on purpose, through
// onnxruntime itself (see faulty-graph.py): faults injected into the real component.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from '../../src/model/sha256-file.js';
import { tempDir } from './temp-dir.js';

export const BUNDLE = 'models/synthetic-actions';

/** fail / slow: on clips that show blue (a pixel's blue exceeds its red by > 100); heavy: every clip. */
export async function faultyBundle(mode: 'fail' | 'slow' | 'heavy'): Promise<string> {
  const dir = join(tempDir(`msta-${mode}-bundle-`), 'bundle');
  cpSync(BUNDLE, dir, { recursive: true });
  const video = join(dir, 'video.onnx');
  const r = spawnSync('/usr/bin/python3', [resolve('test/support/faulty-graph.py'), resolve(BUNDLE, 'video.onnx'), video, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`faulty-graph.py ${mode} failed:\n${r.stderr}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as { files: Record<string, string> };
  manifest.files['video.onnx'] = await sha256File(video);
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(manifest));
  return dir;
}

/** A clip of the bundle's size: grey, or with one blue pixel (which the faulty graphs react to). */
export function clipBytes(blue: boolean): Uint8Array {
  const data = new Uint8Array(8 * 64 * 64 * 3).fill(100);
  if (blue) {
    data[0] = 0;
    data[2] = 255;
  }
  return data;
}
