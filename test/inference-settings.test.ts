import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveInferenceSettings, type ConfiguredInference } from '../src/model/inference-settings.js';

const AUTO: ConfiguredInference = { workers: 'auto', intraOpThreads: 'auto', maxBatch: 'auto', spinning: 'auto' };
const MB = 1024 * 1024;
const pick = (cpus: number, provider: 'cpu' | 'cuda' | 'tensorrt', graphBytes = 347 * MB) => {
  const { auto: _auto, ...s } = resolveInferenceSettings(AUTO, { cpus, provider, graphBytes });
  return s;
};

test('auto on a CPU: one worker per core up to 4, one thread each (cores / 4 beyond), one clip per run for a large model, no spinning', () => {
  assert.deepEqual(pick(1, 'cpu'), { workers: 1, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(2, 'cpu'), { workers: 2, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(4, 'cpu'), { workers: 4, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(6, 'cpu'), { workers: 4, intraOpThreads: 1, maxBatch: 1, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(16, 'cpu'), { workers: 4, intraOpThreads: 4, maxBatch: 1, spinning: false, pipeline: 1 });
});

test('auto on a CPU with a small model (a video graph under 64 MB): batches of 4 and a second batch queued per worker', () => {
  assert.deepEqual(pick(2, 'cpu', 1.5 * MB), { workers: 2, intraOpThreads: 1, maxBatch: 4, spinning: false, pipeline: 2 });
  assert.equal(pick(2, 'cpu', 64 * MB).maxBatch, 1);
});

test('auto on a GPU: one worker and batches of 8; the session threads follow the same rule as on a CPU', () => {
  assert.deepEqual(pick(8, 'cuda'), { workers: 1, intraOpThreads: 2, maxBatch: 8, spinning: false, pipeline: 1 });
  assert.deepEqual(pick(6, 'tensorrt'), { workers: 1, intraOpThreads: 1, maxBatch: 8, spinning: false, pipeline: 1 });
});

test('configured values win over auto, and the auto ones are listed for the log', () => {
  const s = resolveInferenceSettings({ ...AUTO, workers: 3, spinning: true, intraOpThreads: 0 }, { cpus: 2, provider: 'cpu', graphBytes: 347 * MB });
  assert.deepEqual(s, { workers: 3, intraOpThreads: 0, maxBatch: 1, spinning: true, pipeline: 1, auto: ['maxBatch'] });
});
