// Benchmark: the daemon's inference stage (openVideoModel: worker thread, transfer, micro-batcher)
// against raw onnxruntime session.run on the same graph and thread count, like for like: one clip
// at a time, interleaved repeats. (i9-infer's bench/inference-stage.ts compares the daemon's
// defaults against the best raw configuration; this one isolates the stage's own overhead.)
//   node --import tsx bench/stage-vs-raw.ts [--bundle DIR] [--repeats 3] [--runs 20] [--threads 1] [--precision fp32]
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import { report } from './stats.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/synthetic-actions' },
    repeats: { type: 'string', default: '3' },
    runs: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    precision: { type: 'string', default: 'fp32' },
  },
});
const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
const threads = Number(values.threads);
const runs = Number(values.runs);
const int8 = values.precision === 'auto' && bundle.int8VideoPath;
const raw = await ort.InferenceSession.create(int8 ? bundle.int8VideoPath! : bundle.videoPath, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const stage = await openVideoModel(
  bundle,
  { providers: ['cpu'], intraOpThreads: threads, interOpThreads: 1, spinning: false, cpus: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 1, tensorrt: { fp16: false, engineCacheDir: '/tmp' }, precision: values.precision as 'auto' | 'fp32', workers: 1, maxBatch: 1, maxWaitMs: 0 },
  { log: pino({ level: 'warn' }), registry: new Registry() },
);
const clipBytes = m.frames * m.height * m.width * 3;
const template = new Uint8Array(clipBytes).map((_, i) => (i * 31) & 255);

async function rawRate(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) await raw.run({ frames: new ort.Tensor('uint8', template.slice(), [1, m.frames, m.height, m.width, 3]) });
  return runs / ((performance.now() - started) / 1000);
}

async function stageRate(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    await stage.embedClip({ camera: 'c', region: null, seq: i, frames: m.frames, height: m.height, width: m.width, data: template.slice(), firstFrameAt: 0, lastFrameAt: 0 });
  }
  return runs / ((performance.now() - started) / 1000);
}

await rawRate();
await stageRate();
const r: number[] = [];
const s: number[] = [];
for (let i = 0; i < Number(values.repeats); i++) {
  r.push(await rawRate());
  s.push(await stageRate());
}
console.log(`cores ${cpus().length} (${cpus()[0]?.model}); bundle ${m.name} ${m.frames}x${m.height}x${m.width} ${int8 ? 'int8' : 'fp32'}; ${threads} intra-op threads, 1 clip at a time, ${values.repeats} repeats of ${runs}`);
report('inference stage (worker thread, batcher)', 'clips/s', s, 'raw session.run, same graph and threads (baseline)', r, 2);
await stage.close();
await raw.release();
