// Benchmark: N cameras through the daemon's ingest and clip path (source child with in-pipeline
// sampling -> sampleFrames -> slidingClips -> the daemon's fair scheduler -> model workers) for a while:
//  - coverage: clips inferred / clips made (the rest replaced while waiting), per camera count;
//  - cameras sustained: the most cameras whose coverage stays >= --goal while each still makes
//    clips at >= --goal of the first (smallest) camera count's per-camera rate (its baseline);
//  - per clip, its latency from the last frame to its embedding minus its inference, p50 / p99;
//  - event-loop lag p99, parent and child RSS, and the parent's RSS growth after the first minute
//    (a soak: --seconds 1800 for the 30-minute figure). With --expose-gc, once a minute the heap
//    after a forced GC too (retained objects, not garbage), and the last minute / minute 1 ratios.
//   node [--expose-gc] --import tsx bench/cameras.ts [--bundle DIR] [--cameras 1,2,4,8] [--seconds 30]
//     [--url FILE] [--workers auto] [--threads auto] [--max-batch auto] [--precision auto] [--stride 4] [--goal 0.95]
// The model stage runs with the daemon's own defaults (the config schema's, "auto" resolved for
// this host as the daemon resolves it) unless an option overrides one.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { tap } from 'rxjs';
import { sampleFrames } from '../src/clip/sample-frames.js';
import { slidingClips } from '../src/clip/sliding-clips.js';
import { configSchema } from '../src/config/schema.js';
import { modelOptions } from '../src/daemon/model-options.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import { clipScheduler } from '../src/daemon/recognition-control.js';
import { cameraSource } from '../src/source/camera-source.js';
import { median, spread } from './stats.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/synthetic-actions' },
    cameras: { type: 'string', default: '1,2,4,8' },
    seconds: { type: 'string', default: '30' },
    url: { type: 'string', default: resolve('models/demo/actions-demo.mp4') },
    workers: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: 'auto' },
    'max-batch': { type: 'string', default: 'auto' },
    stride: { type: 'string', default: '4' },
    goal: { type: 'string', default: '0.95' },
    precision: { type: 'string', default: 'auto' },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
const interval = m.frame_interval_ms ?? 125;
const log = pino({ level: 'warn' });
const children = new Set<number>();

function rssMb(pid: number | 'self'): number | undefined {
  try {
    const r = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return r ? Number(r[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const auto = (v: string): number | 'auto' => (v === 'auto' ? 'auto' : Number(v));
const options = modelOptions(configSchema.parse({
  model: { bundle: bundle.dir, providers: ['cpu'], precision: values.precision, workers: auto(values.workers), intra_op_threads: auto(values.threads), max_batch: auto(values['max-batch']) },
}).model!);
let settings: { workers: number; intraOpThreads: number; maxBatch: number } | undefined;

async function run(cameras: number, seconds: number) {
  const model = await openVideoModel(bundle, options, { log, registry: new Registry() });
  if (!settings) {
    settings = model.settings;
    console.log(`model stage: ${settings.workers} workers x ${settings.intraOpThreads} intra-op threads, batch ${settings.maxBatch} (the daemon's auto settings where not overridden)`);
  }
  const scheduler = clipScheduler(() => model);
  const made = new Array<number>(cameras).fill(0);
  const inferred = new Array<number>(cameras).fill(0);
  // Per clip: its last frame's capture -> its embedding handed over in the parent, less the
  // inference it waited for (its batch's run): the daemon's latency path before recognition.
  const overhead: number[] = [];
  const inference: number[] = [];
  const subs = Array.from({ length: cameras }, (_, i) => {
    const source = cameraSource(
      { camera: `cam${i}`, url: values.url, width: m.width, height: m.height, loop: true, sampleIntervalMs: interval },
      { log: { debug: (o: object, msg: string) => msg === 'source child started' && children.add((o as { pid: number }).pid), info: () => undefined, warn: () => undefined } },
    );
    const stream = scheduler.add(`cam${i}`, {
      result: (r) => {
        inferred[i]!++;
        inference.push(r.inferenceSeconds * 1000);
        overhead.push(Date.now() - r.clip.lastFrameAt - r.inferenceSeconds * 1000);
      },
      failed: () => undefined, replaced: () => undefined });
    return source.frames
      .pipe(
        sampleFrames(interval),
        slidingClips({ camera: `cam${i}`, frames: m.frames, stride: Number(values.stride), width: m.width, height: m.height, maxGapMs: interval * 4 }),
        tap(() => made[i]!++),
      )
      .subscribe((c) => stream.submit(c));
  });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const rss: { t: number; parent: number }[] = [];
  const minutes: { t: number; rss: number; heap: number }[] = [];
  const childRss: number[] = [];
  const started = Date.now();
  const every = Math.min(10_000, (seconds * 1000) / 6);
  while (Date.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, every));
    const t = (Date.now() - started) / 1000;
    rss.push({ t, parent: rssMb('self')! });
    // Once a minute, after a forced GC (a full GC stalls the loop: not at every sample).
    if (gc && t >= (minutes.length + 1) * 60) {
      gc();
      minutes.push({ t, rss: rssMb('self')!, heap: process.memoryUsage().heapUsed / 2 ** 20 });
      console.log(`  minute ${minutes.length}: parent RSS ${minutes.at(-1)!.rss.toFixed(1)} MB, heap after GC ${minutes.at(-1)!.heap.toFixed(1)} MiB`);
    }
    for (const pid of children) {
      const v = rssMb(pid);
      if (v === undefined) children.delete(pid);
      else childRss.push(v);
    }
  }
  lag.disable();
  subs.forEach((s) => s.unsubscribe());
  await model.close();
  const coverage = made.map((n, i) => (n === 0 ? 0 : inferred[i]! / n));
  const afterMinute = rss.filter((r) => r.t >= Math.min(60, seconds / 3));
  const first = afterMinute[0] ?? rss[0]!;
  const last = rss.at(-1)!;
  const growthPerMin = last.t > first.t ? ((last.parent - first.parent) / (last.t - first.t)) * 60 : 0;
  return { cameras, overhead, inference, made: made.reduce((a, b) => a + b, 0), inferred: inferred.reduce((a, b) => a + b, 0), coverage, lagP99: lag.percentile(99) / 1e6, rss, minutes, childRss, growthPerMin, first, last };
}

const seconds = Number(values.seconds);
console.log(`cores ${cpus().length} (${cpus()[0]?.model}); bundle ${m.name} ${m.frames}x${m.height}x${m.width} (${bundle.int8VideoPath ? 'has int8' : 'fp32 only'}, precision ${values.precision}), workers ${values.workers}, threads ${values.threads}, batch ${values['max-batch']}; ${values.url} looped; 1 frame / ${interval} ms, a clip every ${values.stride}; ${seconds} s per camera count`);
let sustained = 0;
let baselineRate: number | undefined;
for (const n of values.cameras.split(',').map(Number)) {
  const r = await run(n, seconds);
  const wanted = r.made / seconds;
  const perCamera = wanted / n;
  baselineRate ??= perCamera;
  console.log(
    `${n} cameras: clips made ${wanted.toFixed(2)}/s (per camera ${(perCamera / baselineRate).toFixed(2)} of the first run's), inferred ${(r.inferred / seconds).toFixed(2)}/s; coverage (inferred / made) per camera ${spread(r.coverage, 2)} (min / median / max), overall ${(r.inferred / Math.max(1, r.made)).toFixed(2)}; ` +
      `event-loop lag p99 ${r.lagP99.toFixed(1)} ms; parent RSS ${r.first.parent.toFixed(0)} MB at ${r.first.t.toFixed(0)} s -> ${r.last.parent.toFixed(0)} MB at ${r.last.t.toFixed(0)} s (${r.growthPerMin.toFixed(2)} MB/min, ${(((r.last.parent - r.first.parent) / r.first.parent) * 100).toFixed(1)}%); ` +
      `child RSS median ${r.childRss.length ? median(r.childRss).toFixed(0) : '-'} MB`,
  );
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
  console.log(
    `  clip latency minus inference (last frame -> embedding, less its batch's inference), ${r.overhead.length} clips: p50 ${q(r.overhead, 0.5).toFixed(1)} ms, p99 ${q(r.overhead, 0.99).toFixed(1)} ms; ` +
      `inference p50 ${q(r.inference, 0.5).toFixed(1)} ms, p99 ${q(r.inference, 0.99).toFixed(1)} ms (the sink's part after it: bench/sink-latency.ts)`,
  );
  // The series shows whether growth levels off (one sample a minute, or every sample in shorter runs).
  const step = Math.max(1, Math.round(60 / (r.rss[1] ? r.rss[1].t - r.rss[0]!.t : 60)));
  console.log(`  parent RSS over time: ${r.rss.filter((_, k) => k % step === step - 1).map((x) => `${x.t.toFixed(0)} s ${x.parent.toFixed(0)} MB`).join(', ')}`);
  if (r.minutes.length >= 2) {
    // Minute 1 is the start (the model and children are up and clips flow); the halves show whether growth levels off.
    const [m1, last, mid] = [r.minutes[0]!, r.minutes.at(-1)!, r.minutes[Math.floor((r.minutes.length - 1) / 2)]!];
    const slope = (a: typeof m1, b: typeof m1, k: 'rss' | 'heap') => (b.t > a.t ? ((b[k] - a[k]) / (b.t - a.t)) * 60 : 0).toFixed(2);
    console.log(
      `  minute ${r.minutes.length} / minute 1: RSS ${(last.rss / m1.rss).toFixed(3)} (${m1.rss.toFixed(1)} -> ${last.rss.toFixed(1)} MB), heap after GC ${(last.heap / m1.heap).toFixed(3)} (${m1.heap.toFixed(1)} -> ${last.heap.toFixed(1)} MiB); ` +
        `growth per minute, minutes 1-${r.minutes.indexOf(mid) + 1}: RSS ${slope(m1, mid, 'rss')} MB, heap ${slope(m1, mid, 'heap')} MiB; minutes ${r.minutes.indexOf(mid) + 1}-${r.minutes.length}: RSS ${slope(mid, last, 'rss')} MB, heap ${slope(mid, last, 'heap')} MiB (goal: RSS within 5%)`,
    );
  }
  if (Math.min(...r.coverage) >= Number(values.goal) && perCamera >= Number(values.goal) * baselineRate) sustained = n;
}
console.log(`cameras sustained (coverage >= ${values.goal} and clip rate >= ${values.goal} of the first run's): ${sustained} of those tried (${values.cameras})`);
