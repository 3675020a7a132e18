// bundle.json says how a clip's frames are taken (sampling: a fixed interval, or uniform over a
// clip duration); the daemon samples at exactly that step, and a bundle whose two statements
// disagree is refused at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, map, toArray, firstValueFrom } from 'rxjs';
import { bundleFrameIntervalMs, bundleManifestSchema } from '../src/model/bundle-manifest.js';
import { readBundle } from '../src/model/read-bundle.js';
import { sampleFrames } from '../src/clip/sample-frames.js';
import { isMstaError } from '../src/errors.js';
import type { Frame } from '../src/types.js';
import { tempDir } from './support/temp-dir.js';

const BUNDLE = 'models/synthetic-actions';
// The committed manifest without its own sampling statement: each case below gives its own.
const { sampling: _sampling, ...base } = JSON.parse(readFileSync(join(BUNDLE, 'bundle.json'), 'utf8')) as Record<string, unknown>;

test('the step between sampled frames follows sampling, then frame_interval_ms', () => {
  const parse = (extra: Record<string, unknown>) => bundleManifestSchema.parse({ ...base, frame_interval_ms: undefined, ...extra });
  assert.equal(bundleFrameIntervalMs(parse({ sampling: { mode: 'uniform', clip_ms: 4000 } })), 500); // 8 frames over 4 s
  assert.equal(bundleFrameIntervalMs(parse({ sampling: { mode: 'interval', interval_ms: 160 } })), 160);
  assert.equal(bundleFrameIntervalMs(parse({ frame_interval_ms: 125 })), 125);
  assert.equal(bundleFrameIntervalMs(parse({})), undefined);
  assert.equal(bundleFrameIntervalMs(parse({ sampling: { mode: 'uniform', clip_ms: 4000 }, frame_interval_ms: 500 })), 500);
  const bad = bundleManifestSchema.safeParse({ ...base, sampling: { mode: 'uniform', clip_ms: 4000 }, frame_interval_ms: 160 });
  assert.ok(!bad.success && /frame_interval_ms/.test(JSON.stringify(bad.error.issues[0]!.path)) && /disagrees with sampling/.test(bad.error.issues[0]!.message));
  assert.ok(!bundleManifestSchema.safeParse({ ...base, sampling: { mode: 'uniform' } }).success);
  assert.ok(!bundleManifestSchema.safeParse({ ...base, sampling: { mode: 'random', clip_ms: 1 } }).success);
});

test('uniform sampling over a 4 s clip keeps one frame in every 500 ms of a 25 fps stream', async () => {
  const m = bundleManifestSchema.parse({ ...base, frame_interval_ms: undefined, sampling: { mode: 'uniform', clip_ms: 4000 } });
  const frames = Array.from({ length: 100 }, (_, i) => ({ seq: i, capturedAt: 1_000 + i * 40 }) as unknown as Frame);
  const kept = await firstValueFrom(from(frames).pipe(sampleFrames(bundleFrameIntervalMs(m)!), map((f) => f.capturedAt - 1_000), toArray()));
  // One frame per 500 ms slot; a slot opens a quarter interval early (sampleFrames: pre-sampled
  // frames arrive up to a source frame late), so each is the first frame at or after k x 500 - 125.
  assert.deepEqual(kept, [0, 400, 880, 1400, 1880, 2400, 2880, 3400, 3880]);
});

test('a bundle whose sampling and frame_interval_ms disagree is refused by name', async () => {
  const dir = join(tempDir('msta-sampling-'), 'b');
  cpSync(BUNDLE, dir, { recursive: true });
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ ...base, sampling: { mode: 'uniform', clip_ms: 4000 } }));
  await assert.rejects(readBundle(dir), (e: unknown) => isMstaError(e, 'BUNDLE_INVALID') && /frame_interval_ms: 160 ms disagrees with sampling/.test((e as Error).message));
});
