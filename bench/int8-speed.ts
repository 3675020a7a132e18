// Benchmark: the int8 video graph against the fp32 one of the same bundle, in raw onnxruntime
// session.run on the CPU provider (interleaved repeats, so load on a shared box hits both alike),
// and their embedding agreement on real footage (../shared/media, decoded by the daemon's source).
//   node --import tsx bench/int8-speed.ts [--bundle DIR] [--repeats 3] [--runs 2] [--threads 2] [--workers 1]
// --workers N: N sessions of --threads threads each, running at once in worker threads, as the
// daemon's workers do (bench/raw-session-worker.mjs); a repeat is then --runs clips per worker.
// DIR defaults to the cached full-size bundle (bench/make-full-bundle.sh DIR --int8 makes it).
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { filter, lastValueFrom, take, toArray } from 'rxjs';
import { readBundle } from '../src/model/read-bundle.js';
import { runSourceChild, type ChildFrame } from '../src/source/child-process.js';
import { report, spread } from './stats.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: process.env.MSTA_FULL_BUNDLE ?? '/work/cache/full-bundle' },
    repeats: { type: 'string', default: '3' },
    runs: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    clips: { type: 'string', default: '6' },
  },
});
const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
if (!bundle.int8VideoPath) throw new Error(`${values.bundle}: no int8 variant (make it with: bench/make-full-bundle.sh DIR --int8, or export --int8)`);
const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: Number(values.threads), interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const fp32 = await ort.InferenceSession.create(bundle.videoPath, options);
const int8 = await ort.InferenceSession.create(bundle.int8VideoPath, options);
const shape = [1, m.frames, m.height, m.width, 3];
const clipBytes = m.frames * m.height * m.width * 3;
const input = new Uint8Array(clipBytes).map((_, i) => (i * 31) & 255);

async function clipsPerSecond(session: ort.InferenceSession, runs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run({ frames: new ort.Tensor('uint8', input, shape) });
  return runs / ((performance.now() - started) / 1000);
}

/** N sessions of one graph in worker threads, all started together; clips/s of them all. */
async function workerPool(path: string, n: number): Promise<{ clipsPerSecond: (runs: number) => Promise<number>; stop: () => Promise<void> }> {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./raw-session-worker.mjs', import.meta.url), {
    workerData: { path, intraOpThreads: Number(values.threads), spinning: false, batch: 1, clipShape: shape.slice(1) },
  }));
  const reply = (w: Worker) => new Promise<{ clips: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(reply));
  return {
    clipsPerSecond: async (runs) => {
      const started = performance.now();
      const done = workers.map(reply);
      for (const w of workers) w.postMessage({ seconds: 0, minRuns: runs });
      const clips = (await Promise.all(done)).reduce((a, r) => a + r.clips, 0);
      return clips / ((performance.now() - started) / 1000);
    },
    stop: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  };
}

const workers = Number(values.workers);
const pools = workers > 1 ? [await workerPool(bundle.videoPath, workers), await workerPool(bundle.int8VideoPath, workers)] : undefined;
const rate = (i: 0 | 1, runs: number) => (pools ? pools[i]!.clipsPerSecond(runs) : clipsPerSecond(i === 0 ? fp32 : int8, runs));
await rate(0, 1);
await rate(1, 1);
const f: number[] = [];
const q: number[] = [];
for (let r = 0; r < Number(values.repeats); r++) {
  f.push(await rate(0, Number(values.runs)));
  q.push(await rate(1, Number(values.runs)));
}
await Promise.all(pools?.map((p) => p.stop()) ?? []);
console.log(`cores ${cpus().length} (${cpus()[0]?.model}), bundle ${m.name} ${m.frames}x${m.height}x${m.width}, ${workers} x ${values.threads} intra-op threads, ${values.repeats} repeats of ${values.runs} runs${workers > 1 ? ' per worker' : ''}`);
report('int8 video graph', 'clips/s', q, 'fp32 video graph (baseline)', f, 3);

// Real footage: the first T sampled frames of each file, decoded offline by the daemon's source child.
const MEDIA = resolve('../shared/media');
const files = readdirSync(MEDIA).filter((n) => /\.(mp4|avi|mkv)$/.test(n)).sort();
const cosines: number[] = [];
const measured: string[] = [];
const short: string[] = [];
for (const file of files) {
  if (cosines.length >= Number(values.clips)) break;
  const request = { url: join(MEDIA, file), width: m.width, height: m.height, transport: 'tcp' as const, latencyMs: 200, decoder: 'auto', realtime: false, loop: false, sampleIntervalMs: m.frame_interval_ms ?? 125 };
  const frames = await lastValueFrom(runSourceChild(request, { stopTimeoutMs: 2000 }).pipe(filter((e): e is ChildFrame => e.type === 'frame'), take(m.frames), toArray()));
  if (frames.length < m.frames) {
    short.push(file);
    continue;
  }
  const clip = new Uint8Array(clipBytes);
  frames.forEach((fr, i) => clip.set(fr.data, i * fr.data.length));
  const [a, b] = await Promise.all([fp32, int8].map(async (s) => (await s.run({ frames: new ort.Tensor('uint8', clip, shape) })).video_embeds!.data as Float32Array));
  cosines.push(a!.reduce((s, x, i) => s + x * b![i]!, 0));
  measured.push(file);
}
const skipped = short.length > 0 ? `; skipped, under ${m.frames} sampled frames: ${short.join(', ')}` : '';
if (cosines.length > 0) console.log(`int8 vs fp32 embedding cosine on ${cosines.length} real clips (${measured.join(', ')}): ${spread(cosines, 5)} (goal >= 0.99)${skipped}`);
else console.log(`int8 vs fp32 embedding cosine: no real clips measured (--clips ${values.clips}, ${MEDIA})`);
await fp32.release();
await int8.release();
