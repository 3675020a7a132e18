// cameraSource through the real child on local sources (test pattern, files): drop counting when
// the daemon falls behind, the fps cap, the end of a file, errors that are final.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { lastValueFrom, take, toArray } from 'rxjs';
import { isMstaError } from '../src/errors.js';
import { cameraSource } from '../src/source/camera-source.js';
import type { CameraStatus } from '../src/types.js';

const CLIP = resolve('../shared/media/wave_2.avi'); // 49 frames, 432x240

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)!.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

test('a daemon that falls behind gets the latest frames; the skipped ones are counted as drops', async () => {
  const registry = new Registry();
  // 320x240 RGB frames (230 KB) overflow the pipe at once while the main thread is blocked.
  const source = cameraSource({ camera: 'busy', url: 'test://ball', width: 320, height: 240 }, { registry });
  const seqs: number[] = [];
  await new Promise<void>((done) => {
    const sub = source.frames.subscribe((f) => {
      seqs.push(f.seq);
      if (seqs.length === 3) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500); // the event loop stalls
      }
      if (seqs.length === 15) {
        sub.unsubscribe();
        done();
      }
    });
  });
  const skipped = seqs.slice(1).reduce((n, s, i) => n + (s - seqs[i]! - 1), 0);
  assert.ok(skipped > 10, `about 45 frames came while blocked; ${skipped} were skipped (seqs ${seqs.join(',')})`);
  assert.equal(source.counts().dropped, skipped);
  assert.equal(await counter(registry, 'msta_source_frames_dropped_total', { camera: 'busy', reason: 'overflow' }), skipped);
  assert.equal(await counter(registry, 'msta_source_frames_total', { camera: 'busy' }), 15);
});

test('max fps drops frames inside the pipeline', async () => {
  const source = cameraSource({ camera: 'slow', url: 'test://ball?fps=30', width: 16, height: 16, maxFps: 5 });
  const frames = await lastValueFrom(source.frames.pipe(take(6), toArray()));
  const span = frames.at(-1)!.capturedAt - frames[0]!.capturedAt;
  assert.ok(span >= 5 * 200 * 0.7, `6 frames over ${span} ms at 5 fps`);
  assert.equal(source.counts().dropped, 0, 'dropped by the rate cap, not lost');
});

test('a file ends: frames, then the source completes offline with "end of stream"', { skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const source = cameraSource({ camera: 'file', url: `file://${CLIP}`, width: 32, height: 24, realtime: false });
  const statuses: CameraStatus[] = [];
  source.status.subscribe((s) => statuses.push(s));
  const frames = await lastValueFrom(source.frames.pipe(toArray()));
  assert.ok(frames.length >= 47 && frames.length <= 51, `${frames.length} frames`);
  assert.deepEqual(statuses.map((s) => s.state), ['offline', 'connecting', 'streaming', 'offline']);
  assert.equal(statuses.at(-1)!.reason, 'end of stream');
});

test('final errors: an uninstalled decoder, a missing file; bad options at once', async () => {
  const statuses: CameraStatus[] = [];
  const bad = cameraSource({ camera: 'c', url: 'rtsp://127.0.0.1:9/x', width: 8, height: 8, decoder: 'nosuchdec' });
  bad.status.subscribe((s) => statuses.push(s));
  await assert.rejects(lastValueFrom(bad.frames), (e: unknown) => isMstaError(e, 'SOURCE_UNSUPPORTED'));
  assert.equal(statuses.at(-1)!.state, 'offline');
  assert.match(statuses.at(-1)!.reason!, /nosuchdec/);
  const missing = cameraSource({ camera: 'c', url: '/nonexistent/clip.mp4', width: 8, height: 8 });
  await assert.rejects(lastValueFrom(missing.frames), (e: unknown) => isMstaError(e, 'SOURCE_FAILED'));
  assert.throws(() => cameraSource({ camera: 'c', url: 'test://ball', width: 0, height: 8 }), (e: unknown) => isMstaError(e, 'CONFIG_INVALID') && /camera c: width/.test(e.message));
  assert.throws(() => cameraSource({ camera: 'c', url: 'test://ball', width: 8, height: 8, maxFps: 2.5 }), /maxFps/);
});
