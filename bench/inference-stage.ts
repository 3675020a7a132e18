// Benchmark: the daemon's inference stage with its default ("auto") settings, against the best
// raw session.run() configuration on the same host, in the same run:
//   nice -n 10 node --import tsx bench/inference-stage.ts [--bundle DIR] [--repeats 3] [--seconds 8]
//     [--cameras 8] [--configs 2x1b1,1x2b1s,...]
// A config WxTbB[s]: W worker threads, T intra-op threads each, batch B, s = spinning on.
// The stage runs clips from --cameras cameras (each submits its next clip when its last one is
// back) through the fair scheduler and the model's workers, exactly as the daemon does.
// Prints clips/s per config and the stage / best-raw ratio, min/median/max over the repeats.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { configSchema } from '../src/config/schema.js';
import { modelOptions } from '../src/daemon/model-options.js';
import { clipScheduler } from '../src/daemon/recognition-control.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import type { Clip } from '../src/types.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/synthetic-actions' },
    repeats: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    cameras: { type: 'string', default: '8' },
    configs: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const seconds = Number(values.seconds);
const cameras = Number(values.cameras);
const host = availableParallelism();

interface RawConfig { workers: number; threads: number; batch: number; spinning: boolean; name: string }
function parseConfig(name: string): RawConfig {
  const m = /^(\d+)x(\d+)b(\d+)(s?)$/.exec(name);
  if (!m) throw new Error(`bad config "${name}": expected WxTbB[s], e.g. 2x1b1 or 1x2b4s`);
  return { workers: Number(m[1]), threads: Number(m[2]), batch: Number(m[3]), spinning: m[4] === 's', name };
}
// Every split of the host's cores into workers x threads, batch 1 and 4, spinning off and on
// where a worker has threads to spin.
const defaults = [...new Set([1, host].flatMap((w) => [`${w}x${Math.max(1, host / w)}`]))].flatMap((wt) =>
  ['b1', 'b4'].flatMap((b) => (wt.endsWith('x1') ? [`${wt}${b}`] : [`${wt}${b}`, `${wt}${b}s`])),
);
const configs = (values.configs?.split(',') ?? defaults).map(parseConfig);

const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
const clipShape = [m.frames, m.height, m.width, 3];
const clipBytes = clipShape.reduce((a, b) => a * b, 1);
const template = new Uint8Array(clipBytes).map((_, i) => (i * 31) & 255);

async function raw(c: RawConfig): Promise<number> {
  const workers = Array.from({ length: c.workers }, () => new Worker(new URL('./raw-session-worker.mjs', import.meta.url), {
    workerData: { path: bundle.videoPath, intraOpThreads: c.threads, spinning: c.spinning, batch: c.batch, clipShape },
  }));
  const next = (w: Worker) => new Promise<{ kind: string; clips: number; seconds: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(next));
  const done = workers.map(next);
  // Every session loaded and warm: all start together.
  for (const w of workers) w.postMessage({ seconds, minRuns: 2 });
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  return results.reduce((a, r) => a + r.clips / r.seconds, 0);
}

async function stage(): Promise<{ clipsPerSecond: number; settings: string }> {
  // The daemon's own defaults for this bundle on this host.
  const options = modelOptions(configSchema.parse({ model: { bundle: bundle.dir, providers: ['cpu'] } }).model!);
  const model = await openVideoModel(bundle, options, { log: pino({ level: 'warn' }), registry: new Registry() });
  const s = model.settings;
  const scheduler = clipScheduler(() => model);
  let done = 0;
  let counting = false;
  let running = true;
  const loops = Array.from({ length: cameras }, (_, i) => new Promise<void>((resolve) => {
    let seq = 0;
    const stream = scheduler.add(`cam${i}`, {
      result: () => {
        if (counting) done++;
        submit();
      },
      failed: (e) => {
        console.error(`cam${i}: ${(e as Error).message}`);
        submit();
      },
      replaced: () => undefined,
    });
    const submit = (): void => {
      if (!running) return void stream.end().then(resolve);
      const clip: Clip = { camera: `cam${i}`, seq: seq++, frames: m.frames, height: m.height, width: m.width, data: template.slice(), firstFrameAt: 0, lastFrameAt: 0 };
      stream.submit(clip);
    };
    submit();
  }));
  // One round of warm runs, then the measured window.
  await new Promise((r) => setTimeout(r, Math.min(5000, seconds * 250)));
  counting = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - started) / 1000;
  const clipsPerSecond = done / elapsed;
  running = false;
  await Promise.all(loops);
  await model.close();
  return { clipsPerSecond, settings: `${s.workers}x${s.intraOpThreads}b${s.maxBatch}${s.spinning ? 's' : ''}` };
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]! };
};
const fmt = (x: { min: number; median: number; max: number }, d = 3) => `${x.min.toFixed(d)} / ${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;

console.log(`host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${host} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`bundle: ${m.name} (${m.frames}x${m.height}x${m.width}), ${repeats} repeats of ${seconds} s, stage with ${cameras} cameras`);
const rawRates = new Map<string, number[]>(configs.map((c) => [c.name, []]));
const stageRates: number[] = [];
const ratios: number[] = [];
const likeForLike: number[] = [];
let stageSettings = '';
for (let r = 0; r < repeats; r++) {
  for (const c of configs) rawRates.get(c.name)!.push(await raw(c));
  const st = await stage();
  stageSettings = st.settings;
  stageRates.push(st.clipsPerSecond);
  const best = Math.max(...configs.map((c) => rawRates.get(c.name)![r]!));
  ratios.push(st.clipsPerSecond / best);
  const same = rawRates.get(st.settings)?.[r];
  if (same !== undefined) likeForLike.push(st.clipsPerSecond / same);
  console.log(`repeat ${r + 1}: stage ${st.clipsPerSecond.toFixed(3)} clips/s, best raw ${best.toFixed(3)} clips/s, ratio ${(st.clipsPerSecond / best).toFixed(3)}${same !== undefined ? `; raw ${st.settings} ${same.toFixed(3)}` : ''}`);
}
console.log('\nclips/s, min / median / max:');
for (const c of configs) console.log(`  raw ${c.name.padEnd(8)} ${fmt(summary(rawRates.get(c.name)!))}`);
console.log(`  stage (daemon defaults ${stageSettings}, ${cameras} cameras) ${fmt(summary(stageRates))}`);
console.log(`stage / best raw (same repeat): ${fmt(summary(ratios))}  (goal >= 0.95)`);
if (likeForLike.length > 0) console.log(`stage / raw at the stage's own settings: ${fmt(summary(likeForLike))}`);
process.exit(0);
