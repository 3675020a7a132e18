// Every clip in ../shared/media (H.264 and MPEG-4 Part 2 in MP4, AVI and Matroska, 240p to 1080p,
// some with non-square pixels) decoded through the real child at a requested size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { filter, lastValueFrom, toArray } from 'rxjs';
import { runSourceChild, type ChildFrame } from '../src/source/child-process.js';

const MEDIA = resolve('../shared/media');
const skip = existsSync(MEDIA) ? false : 'needs ../shared/media (the 12 real clips)';
const clips = skip ? [] : readdirSync(MEDIA).filter((f) => /\.(mp4|avi|mkv)$/.test(f)).sort();

/** Video packets in the container, counted by ffprobe (FFmpeg, independent of GStreamer). */
function packets(file: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(out.toString().trim());
}

function decodeAll(file: string, realtime: boolean): Promise<ChildFrame[]> {
  const request = { url: file, width: 64, height: 48, transport: 'tcp' as const, latencyMs: 200, decoder: 'auto', realtime, loop: false };
  return lastValueFrom(runSourceChild(request, { stopTimeoutMs: 2000 }).pipe(filter((e): e is ChildFrame => e.type === 'frame'), toArray()));
}

test('every clip decodes whole at 64x48', { skip }, async () => {
  assert.equal(clips.length, 12, `12 clips in ${MEDIA}`);
  const pending = [...clips];
  const worker = async () => {
    for (let clip = pending.shift(); clip; clip = pending.shift()) {
      const file = join(MEDIA, clip);
      const frames = await decodeAll(file, false);
      const expected = packets(file);
      assert.ok(Math.abs(frames.length - expected) <= 2, `${clip}: ${frames.length} frames, container has ${expected}`);
      assert.ok(frames.every((f, i) => f.seq === i && f.width === 64 && f.height === 48 && f.data.length === 64 * 48 * 3), `${clip}: sizes and sequence`);
      // Real pictures, not blank buffers: pixel values vary across the frame.
      const mid = frames[Math.floor(frames.length / 2)]!.data;
      assert.ok(new Set(mid).size > 20, `${clip}: a frame with ${new Set(mid).size} distinct byte values`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

test('a file in realtime plays at its own rate, like a camera', { skip }, async () => {
  const file = join(MEDIA, 'cleaning_pool.mp4'); // 32 frames at 30 fps
  const frames = await decodeAll(file, true);
  assert.ok(frames.length >= 24 && frames.length <= 32, `${frames.length} frames`);
  const span = frames.at(-1)!.capturedAt - frames[0]!.capturedAt;
  assert.ok(span >= 700, `paced: ${frames.length} frames over ${span} ms`);
});
