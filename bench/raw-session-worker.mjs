// Benchmark worker: one bare onnxruntime session running session.run() in a loop, the baseline
// the daemon's inference stage is measured against (bench/inference-stage.ts). Each message
// {seconds, minRuns} runs one measured window and answers {clips, seconds}.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { path, intraOpThreads, spinning, batch, clipShape } = workerData;
const session = await ort.InferenceSession.create(path, {
  executionProviders: ['cpu'],
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
});
const clipBytes = clipShape.reduce((a, b) => a * b, 1);
const frames = new Uint8Array(clipBytes * batch).map((_, i) => (i * 31) & 255);
const run = () => session.run({ frames: new ort.Tensor('uint8', frames, [batch, ...clipShape]) });
await run();
parentPort.on('message', async ({ seconds, minRuns }) => {
  const started = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - started < seconds * 1000) {
    await run();
    runs++;
  }
  parentPort.postMessage({ clips: runs * batch, seconds: (performance.now() - started) / 1000 });
});
parentPort.postMessage({ ready: true });
