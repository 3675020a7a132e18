// Regions of interest and masks through the real source child and GStreamer: a 16:9 video whose
// quadrants are red, green, blue and white; each region's frames show its own quadrant, a mask
// blanks its rectangle, crop: full letterboxes, and offline no stream loses a frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { filter, lastValueFrom, take, toArray, type Observable } from 'rxjs';
import type { ChildRequest } from '../src/source/child-protocol.js';
import { runSourceChild, type ChildEvent, type ChildFrame } from '../src/source/child-process.js';
import type { FrameStream } from '../src/source/pipeline-description.js';
import { tempDir } from './support/temp-dir.js';

const W = 64;
const H = 48;
const dir = tempDir('msta-regions-');
const video = join(dir, 'quadrants.avi');
const FRAMES = 30;

/** 640x360 at 10 fps: red top-left, green top-right, blue bottom-left, white bottom-right. */
function renderQuadrants(): void {
  const quadrant = (argb: string) => `videotestsrc num-buffers=${FRAMES} pattern=solid-color foreground-color=${argb} ! video/x-raw,width=320,height=180,framerate=10/1 ! c.`;
  const description = [
    'compositor name=c background=black sink_1::xpos=320 sink_2::ypos=180 sink_3::xpos=320 sink_3::ypos=180',
    `! video/x-raw,width=640,height=360,framerate=10/1 ! videoconvert ! jpegenc quality=95 ! avimux ! filesink location=${video}`,
    quadrant('0xffff0000'), quadrant('0xff00ff00'), quadrant('0xff0000ff'), quadrant('0xffffffff'),
  ].join(' ');
  const r = spawnSync('gst-launch-1.0', ['-q', ...description.split(' ')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `gst-launch failed: ${r.stderr}`);
}
renderQuadrants();
test.after(() => rmSync(dir, { recursive: true, force: true }));

const request = (streams: FrameStream[], extra: Partial<ChildRequest> = {}): ChildRequest => ({
  url: video, width: W, height: H, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: false, loop: false, streams, ...extra,
});

/** Every frame until the end of the file (offline), or the first `n`. */
function frames(events: Observable<ChildEvent>, n = Infinity): Promise<ChildFrame[]> {
  const all = events.pipe(filter((e): e is ChildFrame => e.type === 'frame'));
  return lastValueFrom((Number.isFinite(n) ? all.pipe(take(n)) : all).pipe(toArray()));
}

function pixel(f: ChildFrame, x: number, y: number): [number, number, number] {
  const i = (y * f.width + x) * 3;
  return [f.data[i]!, f.data[i + 1]!, f.data[i + 2]!];
}

/** Names the colour of a pixel, JPEG noise allowed. */
function colour([r, g, b]: [number, number, number]): string {
  const hi = (v: number) => v > 180;
  const lo = (v: number) => v < 70;
  if (hi(r) && lo(g) && lo(b)) return 'red';
  if (lo(r) && hi(g) && lo(b)) return 'green';
  if (lo(r) && lo(g) && hi(b)) return 'blue';
  if (hi(r) && hi(g) && hi(b)) return 'white';
  if (lo(r) && lo(g) && lo(b)) return 'black';
  return `rgb(${r},${g},${b})`;
}

const quadrant = (name: string, x: number, y: number): FrameStream => ({ region: name, rect: { x, y, width: 0.5, height: 0.5 }, fit: 'letterbox', masks: [] });

test("each region's frames show its own quadrant, letterboxed; offline every stream gets every frame at the same media times", async () => {
  const streams = [quadrant('tl', 0, 0), quadrant('tr', 0.5, 0), quadrant('bl', 0, 0.5), quadrant('br', 0.5, 0.5)];
  const got = await frames(runSourceChild(request(streams), { stopTimeoutMs: 2000 }));
  const byStream = streams.map((_, i) => got.filter((f) => f.stream === i));
  for (const [i, want] of ['red', 'green', 'blue', 'white'].entries()) {
    const s = byStream[i]!;
    assert.equal(s.length, FRAMES, `stream ${i}: every frame of the file`);
    assert.deepEqual(s.map((f) => f.seq), [...Array(FRAMES).keys()], `stream ${i}: numbered on its own`);
    const f = s[10]!;
    assert.equal(f.width, W);
    assert.equal(f.height, H);
    assert.equal(colour(pixel(f, W / 2, H / 2)), want, `stream ${i} shows its quadrant`);
    // A 16:9 quadrant in 4:3: letterboxed, 64x36 of picture with bars of 6 rows above and below.
    assert.equal(colour(pixel(f, W / 2, 1)), 'black', `stream ${i}: the top bar`);
    assert.equal(colour(pixel(f, W / 2, H - 2)), 'black', `stream ${i}: the bottom bar`);
    assert.equal(colour(pixel(f, 1, 9)), want, `stream ${i}: the picture fills the width`);
  }
  // Media time: 100 ms apart at the file's 10 fps, the same source frame at the same time in every stream.
  const steps = byStream[0]!.slice(1).map((f, k) => f.capturedAt - byStream[0]![k]!.capturedAt);
  assert.ok(steps.every((d) => Math.abs(d - 100) < 1e-6), `steps: ${steps.join(', ')}`);
  for (let k = 0; k < FRAMES; k++) {
    const times = byStream.map((s) => s[k]!.capturedAt);
    assert.ok(times.every((t) => t === times[0]), `frame ${k}: ${times.join(', ')}`);
  }
});

test('a mask blanks its rectangle before the crop, in the camera stream and in a region', async () => {
  // The camera's mask over the green quadrant; the region covering the top half adds its own over the red one's left half.
  const cameraMask = { x: 0.5, y: 0, width: 0.5, height: 0.5 };
  const streams: FrameStream[] = [
    { region: null, fit: 'letterbox', masks: [cameraMask] },
    { region: 'top', rect: { x: 0, y: 0, width: 1, height: 0.5 }, fit: 'letterbox', masks: [cameraMask, { x: 0, y: 0, width: 0.25, height: 0.5 }] },
  ];
  const got = await frames(runSourceChild(request(streams), { stopTimeoutMs: 2000 }));
  const whole = got.find((f) => f.stream === 0 && f.seq === 5)!;
  // crop full: 16:9 in 4:3, picture rows 6..41.
  assert.equal(colour(pixel(whole, 16, 14)), 'red');
  assert.equal(colour(pixel(whole, 48, 14)), 'black', 'the masked green quadrant');
  assert.equal(colour(pixel(whole, 16, 34)), 'blue');
  assert.equal(colour(pixel(whole, 48, 34)), 'white');
  const top = got.find((f) => f.stream === 1 && f.seq === 5)!;
  // The top half is 32:9: 64x18 of picture, rows 15..32.
  assert.equal(colour(pixel(top, 8, 24)), 'black', "the region's own mask");
  assert.equal(colour(pixel(top, 24, 24)), 'red');
  assert.equal(colour(pixel(top, 48, 24)), 'black', "the camera's mask");
});

test('crop center (the default) sees the middle only; a live test pattern feeds several regions at once', async () => {
  const [center] = await frames(runSourceChild(request([{ region: null, fit: 'center', masks: [] }]), { stopTimeoutMs: 2000 }), 1);
  // 4:3 out of 16:9: the middle 480 of 640 columns, every row: the four quadrants meet in the middle.
  assert.equal(colour(pixel(center!, 2, 2)), 'red');
  assert.equal(colour(pixel(center!, W - 3, H - 3)), 'white');
  // Realtime from a live source: both streams flow (leaky queues, latest frame wins).
  const live = await frames(
    runSourceChild({ ...request([quadrant('a', 0, 0), quadrant('b', 0.5, 0.5)]), url: 'test://red?fps=20', realtime: true }, { stopTimeoutMs: 2000 }),
    20,
  );
  assert.ok(live.some((f) => f.stream === 0) && live.some((f) => f.stream === 1), `streams seen: ${[...new Set(live.map((f) => f.stream))].join(', ')}`);
  assert.ok(live.every((f) => colour(pixel(f, W / 2, H / 2)) === 'red'));
});
