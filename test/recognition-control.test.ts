// The stride controller with per-camera settings: each camera's stride adapts to the shared model
// capacity within its own floor and ceiling (its recognition.stride / stride_max) and its own
// frame interval; one log line per tick names the cameras whose stride moved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { CameraRunner } from '../src/daemon/camera-runner.js';
import { RecognitionControl, type RecognitionControlOptions } from '../src/daemon/recognition-control.js';
import { registerRecognitionMetrics } from '../src/daemon/recognition-metrics.js';
import type { VideoModel } from '../src/model/video-model.js';

/** What the controller reads of a runner (a whole-camera stream) and sets on it. */
function runner(camera: string): CameraRunner {
  return { camera, region: null, stream: camera, stride: 1, tickCoverage: () => undefined } as unknown as CameraRunner;
}

test('each camera adapts within its own stride floor and ceiling and at its own frame rate', async () => {
  const measured: { capacity: number | undefined } = { capacity: undefined };
  const model = { capacity: () => measured.capacity } as unknown as VideoModel;
  const registry = new Registry();
  const lines: { msg: string; strides?: Record<string, number> }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
  const options: Record<string, RecognitionControlOptions> = {
    a: { strideFloor: 1, strideCeiling: 64, frameIntervalMs: 125, warnBelow: 0 },
    b: { strideFloor: 8, strideCeiling: 64, frameIntervalMs: 125, warnBelow: 0 },
    c: { strideFloor: 1, strideCeiling: 3, frameIntervalMs: 125, warnBelow: 0 },
    d: { strideFloor: 1, strideCeiling: 64, frameIntervalMs: 500, warnBelow: 0 },
  };
  const control = new RecognitionControl(() => model, registerRecognitionMetrics(registry), log, (id: string) => options[id]!);
  const runners = ['a', 'b', 'c', 'd'].map(runner);

  control.tick(runners);
  assert.deepEqual(runners.map((r) => r.stride), [1, 8, 1, 1], 'capacity unknown: each its own floor');
  assert.equal(lines.length, 0, 'nothing moved from the configured strides');

  // 4 cameras at 8 sampled frames/s (d: 2/s) on 4 clips/s: ceil(4 * 8 / (4 * 0.9)) = 9 at 8 fps, ceil(4 * 2 / 3.6) = 3 at 2 fps.
  measured.capacity = 4;
  control.tick(runners);
  assert.deepEqual(runners.map((r) => r.stride), [9, 9, 3, 3]);
  assert.equal(lines.length, 1, 'one line for the tick');
  assert.deepEqual(lines[0]!.strides, { a: 9, b: 9, c: 3, d: 3 });
  control.tick(runners);
  assert.equal(lines.length, 1, 'no line while the strides hold');
  const metrics = await registry.metrics();
  assert.match(metrics, /^msta_camera_clip_stride\{camera="b",region=""\} 9$/m);
  assert.match(metrics, /^msta_camera_clip_stride\{camera="c",region=""\} 3$/m);
});
