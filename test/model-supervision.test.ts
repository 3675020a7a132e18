// Supervised inference through real onnxruntime sessions in real worker threads: graphs that fail
// or stall on some clips (built by test/support/faulty-graph.py), a worker thread killed, and a
// worker that cannot be replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { isMstaError, type MstaError } from '../src/errors.js';
import { inferenceTimeoutMs } from '../src/model/inference-failure.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel, type ModelOptions } from '../src/model/video-model.js';
import type { Clip } from '../src/types.js';
import { clipBytes, faultyBundle } from './support/faulty-bundle.js';

const OPTIONS: ModelOptions = {
  providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, tensorrt: { fp16: false, engineCacheDir: '/tmp' }, precision: 'fp32',
  workers: 1, maxBatch: 4, maxWaitMs: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 2,
};

let seq = 0;
const clip = (blue: boolean, camera = 'cam'): Clip => ({ camera, region: null, seq: seq++, frames: 8, height: 64, width: 64, data: clipBytes(blue), firstFrameAt: 0, lastFrameAt: 1 });

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) }), lines };
}

async function open(mode: 'fail' | 'slow' | 'good', options: Partial<ModelOptions> = {}, extra: { onFatal?: (e: MstaError) => void } = {}) {
  const dir = mode === 'good' ? 'models/synthetic-actions' : await faultyBundle(mode);
  const { log, lines } = logCapture();
  const registry = new Registry();
  const workers: Worker[] = [];
  const model = await openVideoModel(await readBundle(dir), { ...OPTIONS, ...options }, { log, registry, onWorker: (w) => workers.push(w), ...extra });
  const metric = async (pattern: RegExp) => Number((await registry.metrics()).match(pattern)?.[1] ?? NaN);
  const failures = (reason: string) => metric(new RegExp(`^msta_inference_failures_total\\{model="synthetic-actions",reason="${reason}"\\} (\\d+)`, 'm'));
  const restarts = () => metric(/^msta_inference_worker_restarts_total\{model="synthetic-actions"\} (\d+)/m);
  return { dir, model, lines, registry, workers, failures, restarts };
}

async function rejectsAs(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMstaError(e) && e.code === code, `expected ${code}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the timeout: factor x warm-up per clip of the batch, never under the floor', () => {
  assert.equal(inferenceTimeoutMs(0.5, 1, { factor: 10, minSeconds: 2 }), 5000);
  assert.equal(inferenceTimeoutMs(0.5, 4, { factor: 10, minSeconds: 2 }), 20_000);
  assert.equal(inferenceTimeoutMs(0.01, 4, { factor: 10, minSeconds: 2 }), 2000);
});

test('a graph that fails on some clips: they fail and are counted, logged once per burst, health shows it, and the next clip runs', async () => {
  const { model, lines, failures, restarts } = await open('fail');
  try {
    assert.equal((await failures('error')), 0, 'the counter has a sample before the first failure');
    assert.equal((await model.embedClip(clip(false))).embedding.length, 64);
    assert.equal(model.health().ok, true);
    for (let i = 0; i < 3; i++) await rejectsAs(model.embedClip(clip(true)), 'INFERENCE_FAILED', /Gather|out of data bounds/);
    assert.equal(await failures('error'), 3);
    const h = model.health();
    assert.equal(h.ok, false, 'health shows the failure while it lasts');
    assert.equal(h.consecutiveFailures, 3);
    assert.equal(h.lastFailure?.reason, 'error');
    assert.match(h.detail, /last 3 clip\(s\) failed \(error/);
    assert.equal(lines.filter((l) => l.msg === String(lines.find((x) => String(x.msg).startsWith('inference failed'))?.msg)).length, 1, 'one log line for the burst');

    assert.equal((await model.embedClip(clip(false))).embedding.length, 64, 'the next clip runs');
    assert.equal(model.health().ok, true);
    assert.ok(lines.some((l) => l.msg === 'inference recovered after 3 failed clip(s)'));
    assert.equal(await restarts(), 0, 'a graph error does not cost the worker');
  } finally {
    await model.close();
  }
});

test('an inference past the timeout fails as "timeout"; the hung worker is replaced by a fresh one, warmed up, and the next clips run', { timeout: 60_000 }, async () => {
  // The stalled clip runs for seconds; the timeout is its floor, 1 s.
  const { model, lines, failures, restarts } = await open('slow', { timeout: { factor: 10, minSeconds: 1 } });
  try {
    await model.embedClip(clip(false));
    const started = Date.now();
    await rejectsAs(model.embedClip(clip(true)), 'INFERENCE_FAILED', /longer than 1\.00 s/);
    assert.ok(Date.now() - started < 5000, 'failed at the timeout, not when the graph finished');
    assert.equal(await failures('timeout'), 1);
    assert.equal(model.health().ok, false);
    // Waits in the batcher until the fresh worker is up.
    assert.equal((await model.embedClip(clip(false))).embedding.length, 64);
    assert.equal(await restarts(), 1);
    const h = model.health();
    assert.equal(h.ok, true, h.detail);
    assert.equal(h.ready, 1);
    assert.ok(lines.some((l) => l.msg === 'inference worker lost: starting a fresh one' && l.reason === 'timeout'));
    assert.ok(lines.some((l) => l.msg === 'inference worker replaced'));
  } finally {
    await model.close();
  }
});

test('a worker thread that dies with clips sent to it: they fail as "worker_exit", none is lost, a fresh worker takes over', { timeout: 60_000 }, async () => {
  // maxBatch 1: each clip is posted to the worker at once, so both reach the dying thread.
  const { model, workers, failures, restarts } = await open('good', { maxBatch: 1, workers: 1 });
  try {
    await model.embedClip(clip(false));
    // Killed while idle (a thread inside session.run() cannot be terminated without aborting the
    // process: the model retires such a thread instead); the clips sent meanwhile are never answered.
    void workers[0]!.terminate();
    const results = await Promise.allSettled([model.embedClip(clip(false)), model.embedClip(clip(false, 'other'))]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.ok(failed.length >= 1, 'the clip sent to the dead worker failed');
    for (const r of failed) assert.match(String(r.reason), /inference worker exited/);
    assert.equal(await failures('worker_exit'), failed.length, 'every failed clip is counted');
    assert.equal((await model.embedClip(clip(false))).embedding.length, 64, 'a fresh worker serves the next clip');
    assert.equal(await restarts(), 1);
    assert.equal(workers.length, 2);
  } finally {
    await model.close();
  }
});

test('two workers: one killed, the other keeps serving while it is replaced', { timeout: 60_000 }, async () => {
  const { model, workers, restarts, lines } = await open('good', { workers: 2 });
  try {
    void workers[0]!.terminate();
    await until('the worker is seen gone', () => model.health().ready < 2 || lines.some((l) => l.msg === 'inference worker replaced'));
    const results = await Promise.all([clip(false), clip(false), clip(false)].map((c) => model.embedClip(c)));
    assert.equal(results.length, 3);
    await until('the replacement', () => model.health().ok);
    assert.equal(await restarts(), 1);
  } finally {
    await model.close();
  }
});

test('a worker that cannot be replaced makes the model fatal: onFatal is called and clips fail as MODEL_FAILED', { timeout: 60_000 }, async () => {
  let fatal: MstaError | undefined;
  const { dir, model, workers, lines } = await open('fail', { maxRestarts: 2 }, { onFatal: (e) => (fatal = e) });
  try {
    // The graph on disk breaks after the start: every replacement fails to load it.
    writeFileSync(join(dir, 'video.onnx'), 'not an onnx graph');
    void workers[0]!.terminate();
    await until('the model is given up', () => fatal !== undefined);
    assert.equal(fatal!.code, 'MODEL_FAILED');
    assert.match(fatal!.message, /after 2 attempts/);
    assert.equal(lines.filter((l) => l.msg === 'inference worker could not be started').length, 2);
    await rejectsAs(model.embedClip(clip(false)), 'MODEL_FAILED', /could not be started/);
    const h = model.health();
    assert.equal(h.ok, false);
    assert.match(h.detail, /0 of 1 workers ready/);
  } finally {
    await model.close();
  }
});
