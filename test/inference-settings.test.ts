import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveInferenceSettings, type ConfiguredInference } from '../src/model/inference-settings.js';

const AUTO: ConfiguredInference = { workers: 'auto', intraOpThreads: 'auto', maxBatch: 'auto', spinning: 'auto' };
const MB = 1024 * 1024;
/** The test bundle's clip (8 x 64 x 64 x 3) and a full-size one (8 x 224 x 224 x 3). */
const SMALL_CLIP = 8 * 64 * 64 * 3;
const FULL_CLIP = 8 * 224 * 224 * 3;
const pick = (cpus: number, provider: 'cpu' | 'cuda' | 'tensorrt', graphBytes = 347 * MB, clipBytes = FULL_CLIP) => {
  const { auto: _auto, ...s } = resolveInferenceSettings(AUTO, { cpus, provider, graphBytes, clipBytes });
  return s;
};

test('auto on a CPU: one worker per core up to 4, one thread each (cores / 4 beyond), one clip per run for a large model, no spinning', () => {
  assert.deepEqual(pick(1, 'cpu'), { workers: 1, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(2, 'cpu'), { workers: 2, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(4, 'cpu'), { workers: 4, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(6, 'cpu'), { workers: 4, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(16, 'cpu'), { workers: 4, intraOpThreads: 4, maxBatch: 1, spinning: false, pipeline: 1 });
});

test('auto on a CPU with a small model (a video graph under 64 MB): clips up to 1.5 MB of input a batch, 4 to 16, and a second batch queued per worker', () => {
  assert.deepEqual(pick(2, 'cpu', 1.5 * MB, SMALL_CLIP), { workers: 2, intraOpThreads: 1, maxBatch: 16, spinning: false, pipeline: 2 });
  assert.equal(pick(2, 'cpu', 1.5 * MB, 8 * 112 * 112 * 3).maxBatch, 5);
  assert.equal(pick(2, 'cpu', 1.5 * MB, FULL_CLIP).maxBatch, 4);
  assert.equal(pick(2, 'cpu', 1.5 * MB, 4 * 32 * 32 * 3).maxBatch, 16);
  assert.equal(pick(2, 'cpu', 64 * MB, SMALL_CLIP).maxBatch, 1);
  assert.equal(pick(2, 'cuda', 1.5 * MB, SMALL_CLIP).maxBatch, 8);
});

test('auto on a GPU: one worker and batches of 8; the session threads follow the same rule as on a CPU', () => {
  assert.deepEqual(pick(8, 'cuda'), { workers: 1, intraOpThreads: 2, maxBatch: 8, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(6, 'tensorrt'), { workers: 1, intraOpThreads: 1, maxBatch: 8, spinning: false, pipeline: 1 });
});

test('configured values win over auto, and the auto ones are listed for the log', () => {
  const s = resolveInferenceSettings({ ...AUTO, workers: 3, spinning: true, intraOpThreads: 0 }, { cpus: 2, provider: 'cpu', graphBytes: 347 * MB, clipBytes: FULL_CLIP });
  assert.deepEqual(s, { workers: 3, intraOpThreads: 0, maxBatch: 1, spinning: true, pipeline: 1, auto: ['maxBatch'] });
});
