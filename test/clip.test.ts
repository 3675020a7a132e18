import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { map, of } from 'rxjs';
import { Registry } from 'prom-client';
import { sampleFrames } from '../src/clip/sample-frames.js';
import { slidingClips } from '../src/clip/sliding-clips.js';
import { ClipWindow } from '../src/clip/clip-window.js';
import { registerClipMetrics } from '../src/clip/clip-metrics.js';
import type { Clip, DropReason, Frame } from '../src/types.js';

const W = 2;
const H = 1;

/** A 2x1 frame whose every byte is `seq` (so clips show which frames they hold, in order). */
function frame(seq: number, capturedAt: number, size = { width: W, height: H }): Frame {
  return { camera: 'cam', region: null, seq, capturedAt, ...size, data: new Uint8Array(size.width * size.height * 3).fill(seq) };
}

/** The frame seqs a clip holds, read back from its pixels. */
function seqsIn(clip: Clip): number[] {
  const bytes = W * H * 3;
  return Array.from({ length: clip.frames }, (_, i) => clip.data[i * bytes]!);
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

test('sampling keeps one frame per interval of capture time, whatever the fps', () => {
  scheduler().run(({ cold, expectObservable }) => {
    // 25 fps (40 ms) with a 100 ms interval, slots starting 25 ms early: 0,40 | 80,120,160 | 200,240 | 280,320,360
    const frames = Array.from({ length: 10 }, (_, i) => frame(i, 1000 + i * 40));
    const source = cold('abcdefghij|', Object.fromEntries(frames.map((f, i) => ['abcdefghij'[i]!, f])));
    expectObservable(source.pipe(sampleFrames(100), map((f) => f.seq))).toBe('a-c--f-h--|', { a: 0, c: 2, f: 5, h: 7 });
  });
  scheduler().run(({ cold, expectObservable }) => {
    // Frames the pipeline already sampled at the interval, up to 70 ms late or 20 ms early: all kept.
    const source = cold('abcd|', { a: frame(0, 0), b: frame(1, 170), c: frame(2, 180), d: frame(3, 370) });
    expectObservable(source.pipe(sampleFrames(100), map((f) => f.seq))).toBe('abcd|', { a: 0, b: 1, c: 2, d: 3 });
  });
  scheduler().run(({ cold, expectObservable }) => {
    // 5 fps (200 ms) with a 100 ms interval: every frame is kept, none invented.
    const source = cold('abc|', { a: frame(0, 0), b: frame(1, 200), c: frame(2, 400) });
    expectObservable(source.pipe(sampleFrames(100), map((f) => f.seq))).toBe('abc|', { a: 0, b: 1, c: 2 });
  });
});

test('sampling restarts when the clock goes backwards (a reconnected source)', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const source = cold('abcd|', { a: frame(0, 5000), b: frame(1, 5050), c: frame(2, 100), d: frame(3, 150) });
    expectObservable(source.pipe(sampleFrames(100), map((f) => f.seq))).toBe('a-c-|', { a: 0, c: 2 });
  });
});

test('clips slide by the stride, hold T frames in order, and carry first and last frame times', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const frames = Array.from({ length: 9 }, (_, i) => frame(i, i * 100));
    const source = cold('abcdefghi|', Object.fromEntries(frames.map((f, i) => ['abcdefghi'[i]!, f])));
    const clips = source.pipe(
      slidingClips({ camera: 'cam', frames: 4, stride: 2, width: W, height: H, maxGapMs: 1000 }),
      map((c) => ({ seq: c.seq, frames: seqsIn(c), first: c.firstFrameAt, last: c.lastFrameAt, bytes: c.data.length })),
    );
    expectObservable(clips).toBe('---a-b-c-|', {
      a: { seq: 0, frames: [0, 1, 2, 3], first: 0, last: 300, bytes: 4 * W * H * 3 },
      b: { seq: 1, frames: [2, 3, 4, 5], first: 200, last: 500, bytes: 24 },
      c: { seq: 2, frames: [4, 5, 6, 7], first: 400, last: 700, bytes: 24 },
    });
  });
});

test('a gap longer than maxGapMs restarts the window, so no clip spans a stall', () => {
  const window = new ClipWindow({ camera: 'cam', frames: 2, stride: 1, width: W, height: H, maxGapMs: 150 });
  assert.equal(window.push(frame(0, 0)), undefined);
  assert.deepEqual(seqsIn(window.push(frame(1, 100)) as Clip), [0, 1]);
  assert.equal(window.push(frame(2, 1000)), undefined, 'the gap restarted the window');
  assert.deepEqual(seqsIn(window.push(frame(3, 1100)) as Clip), [2, 3]);
});

test('a frame of the wrong size is dropped and reported, the window goes on', () => {
  const drops: DropReason[] = [];
  const clips: Clip[] = [];
  of(frame(0, 0), frame(1, 100, { width: 4, height: 4 }), frame(2, 200))
    .pipe(slidingClips({ camera: 'cam', frames: 2, stride: 1, width: W, height: H, maxGapMs: 1000 }, (r) => drops.push(r)))
    .subscribe((c) => clips.push(c));
  assert.deepEqual(drops, ['size_mismatch']);
  assert.deepEqual(clips.map(seqsIn), [[0, 2]]);
});

test('each clip owns its buffer: later frames do not change an emitted clip', () => {
  const window = new ClipWindow({ camera: 'cam', frames: 2, stride: 1, width: W, height: H, maxGapMs: 1000 });
  window.push(frame(0, 0));
  const first = window.push(frame(1, 100)) as Clip;
  window.push(frame(2, 200));
  assert.deepEqual(seqsIn(first), [0, 1]);
});

test('clip metrics count clips and drops per camera and region ("" for the whole camera) on the registry given', async () => {
  const registry = new Registry();
  const metrics = registerClipMetrics(registry);
  metrics.clip('cam', null);
  metrics.clip('cam', null);
  metrics.clip('cam', 'door');
  metrics.drop('cam', null, 'replaced');
  const text = await registry.metrics();
  assert.match(text, /^msta_clips_total\{camera="cam",region=""\} 2$/m);
  assert.match(text, /^msta_clips_total\{camera="cam",region="door"\} 1$/m);
  assert.match(text, /^msta_clips_dropped_total\{camera="cam",region="",reason="replaced"\} 1$/m);
});
