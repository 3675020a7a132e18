// cameraSource through the real child on local sources (test pattern, files): drop counting when
// the daemon falls behind, the fps cap, the end of a file, errors that are final.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { lastValueFrom, take, toArray } from 'rxjs';
import { isMstaError } from '../src/errors.js';
import { cameraSource } from '../src/source/camera-source.js';
import type { CameraStatus, Frame } from '../src/types.js';
import { waitGone } from './support/process-gone.js';
import { tempDir } from './support/temp-dir.js';

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

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a file whose first frame is later than the watchdog (a loaded host) is tried again, then streams', { skip: existsSync(CLIP) ? false : `needs ${CLIP}`, timeout: 60_000 }, async () => {
  // A FIFO that nobody writes to yet: the first child waits on it past the watchdog; the file's
  // bytes are written once the second child has it open.
  const fifo = join(tempDir('msta-late-file-'), 'late.avi');
  execFileSync('mkfifo', [fifo]);
  const pids: number[] = [];
  const log = { debug: (o: { pid?: number }) => void (o.pid !== undefined && pids.push(o.pid)), info: () => undefined, warn: () => undefined };
  const source = cameraSource(
    { camera: 'late', url: `file://${fifo}`, width: 32, height: 24, stallTimeoutMs: 2000, stopTimeoutMs: 300, backoff: { initialMs: 1000, jitter: 'none' } },
    { log },
  );
  const statuses: CameraStatus[] = [];
  source.status.subscribe((st) => statuses.push(st));
  const frames: Frame[] = [];
  let failed: unknown;
  const done = new Promise<void>((resolveDone) => source.frames.subscribe({ next: (f) => frames.push(f), error: (e) => { failed = e; resolveDone(); }, complete: resolveDone }));
  await until('a second connection', () => statuses.some((st) => st.state === 'connecting' && st.reconnects === 1), 10_000);
  assert.equal(pids.length, 2, 'one child per connection');
  assert.ok(await waitGone(pids[0]!, 5000), 'the first child is stopped');
  // The whole file to whichever child has the FIFO open; again if that one closes it first.
  const bytes = await readFile(CLIP);
  let ended = false;
  void done.then(() => (ended = true));
  for (let tries = 0; !ended && frames.length === 0 && tries < 5; tries++) {
    try {
      await writeFile(fifo, bytes);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
  }
  await done;
  assert.equal(failed, undefined);
  assert.ok(frames.length >= 40, `${frames.length} frames after the late start`);
  const states = statuses.map((st) => st.state);
  assert.deepEqual(states.slice(0, 4), ['offline', 'connecting', 'offline', 'connecting']);
  assert.equal(statuses[2]!.reason, 'no first frame for 2 s');
  assert.ok(states.includes('streaming'), states.join(', '));
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
