// Motion gating: clipMotion on made-up clips, then the demo video through the real source, clip
// path, test bundle and recognizer, with and without the gate: still clips are skipped and
// counted, and every action still starts and ends as without the gate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { registerClipMetrics } from '../src/clip/clip-metrics.js';
import { clipMotion } from '../src/clip/clip-motion.js';
import { CameraRunner } from '../src/daemon/camera-runner.js';
import { buildRecognizer, configuredLabelSet } from '../src/daemon/recognizer.js';
import { ClipTokenizer } from '../src/model/clip-tokenizer.js';
import { loadClipVocab } from '../src/model/clip-vocab.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import { clipScheduler } from '../src/daemon/recognition-control.js';
import { cameraSource } from '../src/source/camera-source.js';
import type { ActionEvent, Clip } from '../src/types.js';
import { tempDir } from './support/temp-dir.js';

function clip(draw: (f: number, x: number, y: number) => number): Clip {
  const [T, W, H] = [8, 64, 64];
  const data = new Uint8Array(T * W * H * 3);
  for (let f = 0; f < T; f++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.fill(draw(f, x, y), ((f * H + y) * W + x) * 3, ((f * H + y) * W + x) * 3 + 3);
  return { camera: 'c', region: null, seq: 0, frames: T, width: W, height: H, data, firstFrameAt: 0, lastFrameAt: 0 };
}

test('clip motion: 0 for a still or noisy scene, the moving share of the frame otherwise', () => {
  assert.equal(clipMotion(clip((_f, x) => x * 4)), 0);
  // Codec-like noise (frame to frame differences up to 14 grey levels) is not motion.
  assert.equal(clipMotion(clip((f, x, y) => 100 + (((f * 7 + x * 13 + y * 31) % 15) - 7))), 0);
  // An 8x8 white square moving 4 pixels a frame over a black scene: a few percent of the grid.
  const moving = clipMotion(clip((f, x, y) => (x >= f * 4 && x < f * 4 + 8 && y >= 20 && y < 28 ? 255 : 0)));
  assert.ok(moving > 0.5 && moving < 5, `moving square: ${moving}%`);
});

const BUNDLE = 'models/synthetic-actions';
const DEMO = resolve('models/demo/actions-demo.mp4');
// The demo's actions, from its timeline (the idle stretches between them are not actions).
const DEMO_ACTIONS = new Set(
  (JSON.parse(readFileSync('models/demo/actions-demo.json', 'utf8')) as { timeline: { label: string }[] }).timeline.map((s) => s.label).filter((l) => l !== 'nothing happening'),
);

const STILL_SOURCE = resolve('../shared/media/segway.mp4');

/** A still scene from real footage: one frame of segway.mp4, H.264-encoded for 6 s (real codec noise). */
function stillScene(): string {
  const dir = tempDir('msta-still-');
  const out = join(dir, 'still.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-ss', '2', '-i', STILL_SOURCE, '-frames:v', '1', join(dir, 'f.png')]);
  execFileSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', join(dir, 'f.png'), '-t', '6', '-r', '25', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', out]);
  return out;
}

async function runDemo(motionThreshold: number | undefined, url = DEMO) {
  const bundle = await readBundle(BUNDLE);
  const m = bundle.manifest;
  const log = pino({ level: 'warn' });
  const model = await openVideoModel(bundle, { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 1, tensorrt: { fp16: false, engineCacheDir: '/tmp' }, precision: 'fp32', workers: 1, maxBatch: 4, maxWaitMs: 5 }, { log, registry: new Registry() });
  const registry = new Registry();
  const events: ActionEvent[] = [];
  try {
    const recognizer = await buildRecognizer(configuredLabelSet({ files: [], actions: [] }, m), undefined, model, new ClipTokenizer(loadClipVocab(bundle.vocabPath)), log);
    const runner = new CameraRunner('demo', {
      scheduler: clipScheduler(() => model),
      source: cameraSource({ camera: 'demo', url, width: m.width, height: m.height, sampleIntervalMs: m.frame_interval_ms!, realtime: false }),
      model,
      clipMetrics: registerClipMetrics(registry),
      log,
      onStatus: () => undefined,
      onScores: () => undefined,
      onEvent: (e) => events.push(e),
    });
    runner.start({ frameIntervalMs: m.frame_interval_ms!, stride: 2, everyClip: true, ...(motionThreshold !== undefined ? { motionThreshold } : {}) });
    runner.setRecognizer(recognizer, { background: 'nothing happening', smoothing: 0.5, start: 0.6, end: 0.4, minClips: 2, minScore: 0, topK: 3, updateEveryClips: 100, updateRise: 1, model: { name: m.name, sha256: bundle.sha256 } });
    await runner.ingestDone;
    await runner.stop();
  } finally {
    await model.close();
  }
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);
  return { events, made: await value('msta_clips_total'), skipped: await value('msta_clips_skipped_total') };
}

test('the gate skips still clips of the demo video, counted, and every action still starts and ends', { timeout: 120_000 }, async () => {
  const open = await runDemo(undefined);
  const gated = await runDemo(0.05);
  const starts = (r: { events: ActionEvent[] }) => r.events.filter((e) => e.type === 'start').map((e) => e.label);
  assert.equal(open.skipped, 0);
  // The demo's idle stretches are short (1.6 s) and an action is followed to its end, so few clips are still.
  assert.ok(gated.skipped > 0, `${gated.skipped} of ${gated.made} clips skipped as still`);
  // Every action of the demo is found with the gate as without it. (A window where the ball
  // appears or leaves at a boundary can read as blinking: such extra events are the model's,
  // with or without the gate, so they are not compared.)
  for (const r of [open, gated]) {
    const missing = [...DEMO_ACTIONS].filter((a) => !starts(r).includes(a));
    assert.deepEqual(missing, [], `${r === gated ? 'with' : 'without'} the gate, the demo's actions not found: ${missing.join(', ')}`);
  }
  for (const r of [open, gated]) {
    assert.equal(r.events.filter((e) => e.type === 'end').length, starts(r).length, 'every action ends');
  }
  console.log(`demo video: ${gated.made} clips, ${gated.skipped} skipped as still (${((100 * gated.skipped) / gated.made).toFixed(0)}%); ${starts(gated).length} actions with and without the gate`);
});

test('the gate skips every clip of a still scene from real footage, and nothing starts', { timeout: 60_000, skip: existsSync(STILL_SOURCE) ? false : `needs ${STILL_SOURCE} (shared real footage)` }, async () => {
  const still = await runDemo(0.05, stillScene());
  assert.ok(still.made >= 10 && still.skipped === still.made, `still scene: ${still.skipped} of ${still.made} clips skipped`);
  assert.equal(still.events.length, 0);
  console.log(`still scene (real footage, H.264): ${still.skipped} of ${still.made} clips skipped`);
});
