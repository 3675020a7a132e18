// The JPEG branch of a camera's pipeline through the real child and real GStreamer: JPEGs of the
// whole frame at the configured width (never upscaled, the source's aspect kept) showing the
// frame, at a low rate; and none encoded while nobody wants them (the valve shut).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { cameraSource, type CameraSource } from '../src/source/camera-source.js';
import { buildPipelineDescription } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';
import type { Snapshot } from '../src/types.js';
import { jpegInfo, jpegMeanRgb } from './support/jpeg.js';
import { RtspServer } from './support/rtsp-server.js';

const CLIP = resolve('../shared/media/wave_2.avi'); // 432x240

test('the description: the JPEG branch leaves the whole-frame tee, rate before the valve, the width a range; none when decoding offline', () => {
  const o = { width: 224, height: 224, transport: 'tcp' as const, latencyMs: 200, decoder: 'software', sampleIntervalMs: 125, snapshots: { width: 640, quality: 80, fps: 2, encoding: false } };
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/stream'), { ...o, realtime: true }, () => false);
  const [main, branch] = d.split(' t. ! videorate');
  assert.match(main!, /framerate=8\/1 ! tee name=t t\. ! queue .*aspectratiocrop.* ! appsink name=frames_0 .*sync=true/);
  assert.equal(
    `t. ! videorate${branch}`,
    't. ! videorate drop-only=true max-rate=2 ! valve name=snapshot_valve drop=true drop-mode=forward-sticky-events ! queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0 ! videoscale ! videoconvert ! video/x-raw,width=[1,640],pixel-aspect-ratio=1/1 ! jpegenc quality=80 ! appsink name=snapshots max-buffers=1 drop=true sync=true async=false enable-last-sample=false',
  );
  // A file played at its own rate: the frames' queue holds the decoder back (a leaky one would let it race through the file).
  const paced = buildPipelineDescription(parseSourceUrl('/media/clip.mp4'), { ...o, realtime: true }, () => false);
  assert.match(paced, /tee name=t t\. ! queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 ! aspectratiocrop/);
  const offline = buildPipelineDescription(parseSourceUrl('/media/clip.mp4'), { ...o, realtime: false }, () => false);
  assert.doesNotMatch(offline, /tee|jpegenc/);
});

/** Starts the camera (frames subscribed) and collects its snapshots. */
function watch(source: CameraSource): { snaps: Snapshot[]; frames: () => number; stop: () => void } {
  const snaps: Snapshot[] = [];
  let frames = 0;
  const subs: Subscription[] = [source.snapshots.subscribe((s) => snaps.push(s)), source.frames.subscribe(() => frames++)];
  return { snaps, frames: () => frames, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('live snapshots: none encoded until asked, then JPEGs of the configured width showing the frame, at the low rate; none again once off', { timeout: 60_000 }, async () => {
  const registry = new Registry();
  const source = cameraSource(
    { camera: 'red', url: 'test://red?fps=30', width: 32, height: 24, snapshots: { enabled: false, width: 320, quality: 85, fps: 4 } },
    { registry },
  );
  const w = watch(source);
  try {
    // Streaming for a while with the valve shut: no JPEG.
    await until('frames', 20_000, () => w.frames() >= 30);
    assert.equal(w.snaps.length, 0, 'no JPEG while nobody watches and snapshots are disabled');

    source.setLiveSnapshots(true);
    const askedAt = Date.now();
    await until('6 JPEGs', 20_000, () => w.snaps.length >= 6);
    const s = w.snaps.at(-1)!;
    assert.equal(s.camera, 'red');
    const info = jpegInfo(s.jpeg);
    assert.equal(info.sof, 0xc0, 'baseline JPEG');
    // test:// is 640x480: 320 wide keeps 4:3.
    assert.deepEqual([info.width, info.height, s.width, s.height], [320, 240, 320, 240]);
    const [r, g, b] = jpegMeanRgb(s.jpeg);
    assert.ok(r > 200 && g < 60 && b < 60, `a red frame, mean RGB ${[r, g, b].map(Math.round).join(',')}`);
    assert.ok(s.capturedAt >= askedAt - 1000 && s.capturedAt <= Date.now(), 'capture time on the wall clock');
    // At most 4 a second (frames come at 30).
    const span = (w.snaps.at(-1)!.capturedAt - w.snaps[0]!.capturedAt) / 1000;
    const rate = (w.snaps.length - 1) / span;
    assert.ok(rate <= 4.6 && rate >= 2, `${rate.toFixed(2)} JPEGs/s at fps 4`);
    const counted = (await registry.getSingleMetric('msta_source_snapshots_total')!.get()).values.find((v) => v.labels.camera === 'red')!.value;
    assert.ok(counted >= w.snaps.length, `msta_source_snapshots_total ${counted}`);

    source.setLiveSnapshots(false);
    await new Promise((r) => setTimeout(r, 700)); // the command reaches the child; a JPEG in the pipe may still land
    const after = w.snaps.length;
    const framesBefore = w.frames();
    await until('more frames', 20_000, () => w.frames() >= framesBefore + 30);
    assert.equal(w.snaps.length, after, 'no JPEG once nobody watches');
  } finally {
    w.stop();
  }
});

test('snapshots enabled: encoded from the start, never upscaled past the source', { timeout: 60_000 }, async () => {
  const source = cameraSource({ camera: 'blue', url: 'test://blue?fps=30', width: 32, height: 24, snapshots: { enabled: true, width: 1920, quality: 70, fps: 2 } });
  const w = watch(source);
  try {
    await until('a JPEG', 20_000, () => w.snaps.length >= 1);
    const info = jpegInfo(w.snaps[0]!.jpeg);
    assert.deepEqual([info.width, info.height], [640, 480], 'the source is 640x480');
    const [r, g, b] = jpegMeanRgb(w.snaps[0]!.jpeg);
    assert.ok(b > 200 && r < 60 && g < 60, `a blue frame, mean RGB ${[r, g, b].map(Math.round).join(',')}`);
  } finally {
    w.stop();
  }
});

test('a 432x240 file played at its rate: frames at the sampling rate beside JPEGs 320 wide keeping its aspect', { timeout: 60_000, skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const source = cameraSource({ camera: 'file', url: `file://${CLIP}`, loop: true, width: 32, height: 24, sampleIntervalMs: 100, snapshots: { enabled: true, width: 320, quality: 80, fps: 5 } });
  const w = watch(source);
  try {
    await until('a JPEG and 20 frames', 20_000, () => w.snaps.length >= 1 && w.frames() >= 20);
    const info = jpegInfo(w.snaps[0]!.jpeg);
    assert.equal(info.width, 320);
    assert.ok(Math.abs(info.height - (320 * 240) / 432) <= 1, `height ${info.height} for 320 wide at 432:240`);
  } finally {
    w.stop();
  }
});

test('a file with the branch shut still ends: the end of stream passes the valve', { timeout: 60_000, skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const source = cameraSource({ camera: 'file', url: `file://${CLIP}`, width: 32, height: 24, sampleIntervalMs: 100, snapshots: { enabled: false, width: 320, quality: 80, fps: 5 } });
  const statuses: string[] = [];
  source.status.subscribe((s) => statuses.push(`${s.state}${s.reason ? ` (${s.reason})` : ''}`));
  let frames = 0;
  let snaps = 0;
  source.snapshots.subscribe(() => snaps++);
  await new Promise<void>((done, fail) => source.frames.subscribe({ next: () => frames++, complete: done, error: fail }));
  assert.ok(frames >= 15, `${frames} frames of a 2 s file at 1 per 100 ms`);
  assert.equal(snaps, 0);
  assert.equal(statuses.at(-1), 'offline (end of stream)');
});

test('with regions, the JPEG is still the whole camera frame (taken before any region crop)', { timeout: 60_000 }, async () => {
  const streams = [{ region: 'left', rect: { x: 0, y: 0, width: 0.25, height: 1 }, fit: 'letterbox' as const, masks: [] }];
  const source = cameraSource({ camera: 'regions', url: 'test://green?fps=30', width: 32, height: 24, streams, snapshots: { enabled: true, width: 320, quality: 80, fps: 5 } });
  const w = watch(source);
  try {
    await until('a JPEG and frames of the region', 20_000, () => w.snaps.length >= 1 && w.frames() >= 5);
    const info = jpegInfo(w.snaps[0]!.jpeg);
    assert.deepEqual([info.width, info.height], [320, 240], "the whole 640x480 frame's aspect, not the quarter-wide region's");
    const [r, g, b] = jpegMeanRgb(w.snaps[0]!.jpeg);
    assert.ok(g > 200 && r < 60 && b < 60, `green, mean RGB ${[r, g, b].map(Math.round).join(',')}`);
  } finally {
    w.stop();
  }
});

test("the camera's masks are painted on its JPEGs too (privacy: a masked bed stays masked in the pictures)", { timeout: 60_000 }, async () => {
  const masks = [{ x: 0, y: 0, width: 0.5, height: 1 }];
  const source = cameraSource({ camera: 'masked', url: 'test://green?fps=30', width: 32, height: 24, streams: [{ region: null, fit: 'center', masks }], snapshots: { enabled: true, width: 320, quality: 80, fps: 5, masks } });
  const w = watch(source);
  try {
    await until('a JPEG', 20_000, () => w.snaps.length >= 1);
    const [r, g, b] = jpegMeanRgb(w.snaps[0]!.jpeg);
    // Half black, half green.
    assert.ok(g > 100 && g < 160 && r < 40 && b < 40, `half the frame masked, mean RGB ${[r, g, b].map(Math.round).join(',')}`);
  } finally {
    w.stop();
  }
});

test('an RTSP camera: frames and JPEGs of its stream, live encoding on and off', { timeout: 60_000 }, async () => {
  const server = await RtspServer.start({ width: 320, height: 180, fps: 15 });
  const source = cameraSource({ camera: 'rtsp', url: server.url('test'), width: 32, height: 24, sampleIntervalMs: 125, snapshots: { enabled: false, width: 160, quality: 80, fps: 4 } });
  const w = watch(source);
  try {
    await until('frames', 20_000, () => w.frames() >= 8);
    assert.equal(w.snaps.length, 0);
    source.setLiveSnapshots(true);
    await until('a JPEG', 20_000, () => w.snaps.length >= 2);
    const info = jpegInfo(w.snaps.at(-1)!.jpeg);
    assert.deepEqual([info.width, info.height], [160, 90], '16:9 kept');
    const framesBefore = w.frames();
    await until('frames go on beside the JPEGs', 20_000, () => w.frames() >= framesBefore + 8);
  } finally {
    w.stop();
    await server.kill();
  }
});
