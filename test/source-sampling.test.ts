// The pipeline keeps one frame per sampling interval before scaling, through real GStreamer on
// real 25 and 30 fps footage: the parent receives only frames the clip sampler takes, and a clip
// spans the same time whatever the camera's fps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { from, lastValueFrom, toArray } from 'rxjs';
import { sampleFrames } from '../src/clip/sample-frames.js';
import { slidingClips } from '../src/clip/sliding-clips.js';
import { cameraSource } from '../src/source/camera-source.js';
import type { Frame } from '../src/types.js';

const MEDIA = resolve('../shared/media');
const skip = existsSync(MEDIA) ? false : 'needs ../shared/media (the real clips)';
const INTERVAL = 160;
const T = 8;
const SOURCES = [
  { file: 'eye_makeup_mpeg4.avi', fps: 25 }, // MPEG-4 Part 2, 320x240, 164 frames
  { file: 'two_people_1080p.mp4', fps: 30 }, // H.264 1080p, 72 frames
];

/** The stream's duration (first to last frame) as ffprobe (FFmpeg, not GStreamer) counts it. */
function spanMs(file: string, fps: number): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return ((Number(out.toString().trim()) - 1) * 1000) / fps;
}

async function run(file: string, realtime: boolean): Promise<{ frames: Frame[]; counted: number; dropped: number }> {
  const registry = new Registry();
  const source = cameraSource({ camera: 'cam', url: file, width: 64, height: 64, sampleIntervalMs: INTERVAL, realtime }, { registry });
  const frames = await lastValueFrom(source.frames.pipe(toArray()));
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);
  return { frames, counted: await value('msta_source_frames_total'), dropped: await value('msta_source_frames_dropped_total') };
}

async function clipSpans(frames: Frame[]): Promise<number[]> {
  const clips = await lastValueFrom(
    from(frames).pipe(sampleFrames(INTERVAL), slidingClips({ camera: 'cam', frames: T, stride: 2, width: 64, height: 64, maxGapMs: INTERVAL * 4 }), toArray()),
  );
  return clips.map((c) => c.lastFrameAt - c.firstFrameAt);
}

for (const realtime of [true, false]) {
  test(`${realtime ? 'realtime' : 'offline'}: one frame per interval reaches the parent, and clips span (T-1) intervals at 25 and 30 fps`, { skip }, async () => {
    const results = await Promise.all(SOURCES.map(async (s) => ({ ...s, span: spanMs(resolve(MEDIA, s.file), s.fps), ...(await run(resolve(MEDIA, s.file), realtime)) })));
    for (const r of results) {
      const expected = r.span / INTERVAL + 1;
      assert.ok(Math.abs(r.frames.length - expected) <= 1.5, `${r.file}: ${r.frames.length} frames delivered, ${expected.toFixed(1)} sampling slots`);
      assert.equal(r.counted, r.frames.length, `${r.file}: msta_source_frames_total counts frames delivered`);
      assert.equal(r.dropped, 0, `${r.file}: frames the pipeline drops by rate are not drops`);
      // The clip sampler takes every frame the pipeline delivered (videorate also pushes the very
      // last frame at end of stream, one source frame after the one before).
      const kept = await lastValueFrom(from(r.frames).pipe(sampleFrames(INTERVAL), toArray()));
      assert.ok(kept.length >= r.frames.length - 1, `${r.file}: sampler kept ${kept.length} of ${r.frames.length}`);
      const spans = await clipSpans(r.frames);
      assert.ok(spans.length >= 2, `${r.file}: ${spans.length} clips`);
      // Realtime: each kept frame is a real frame within one source frame of its grid point (videorate
      // takes the later one on a tie), at its true time, plus scheduling on a loaded box. Offline:
      // media time on the interval grid, moved on to the pipeline's position when that runs ahead
      // (it moves in source frames): within one source frame.
      const tolerance = realtime ? 2000 / r.fps + 60 : 1000 / r.fps + 1;
      for (const s of spans) assert.ok(Math.abs(s - (T - 1) * INTERVAL) <= tolerance, `${r.file}: clip spans ${s} ms, want ${(T - 1) * INTERVAL}`);
    }
  });
}
