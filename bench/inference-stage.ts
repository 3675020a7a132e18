// Benchmark: the daemon's inference stage with its default ("auto") settings, against the best
// raw session.run() configuration on the same host, in the same run:
//   nice -n 10 node --import tsx bench/inference-stage.ts [--bundle DIR] [--repeats 3] [--seconds 8]
//     [--cameras 8] [--configs 2x1b1,1x2b1s,...]
// A config WxTbB[s]: W worker threads, T intra-op threads each, batch B, s = spinning on.
// The stage runs clips from --cameras cameras (each keeps its share of slots in flight and one
// clip waiting) through the fair scheduler and the model's workers, exactly as the daemon does.
// Every session is loaded once; the measured windows are interleaved (stage and each raw config,
// in a random order) per repeat. Prints clips/s and clips per CPU-second of each, the stage /
// best-raw ratios, min/median/max over the repeats, and the stage's mean batch.
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
import { median, shuffled, spread } from './stats.js';

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
// Every split of the host's cores into workers x threads, batch 1, 4, 8 and 16, spinning off and
// on where a worker has threads to spin.
const defaults = [...new Set([1, host].flatMap((w) => [`${w}x${Math.max(1, host / w)}`]))].flatMap((wt) =>
  ['b1', 'b4', 'b8', 'b16'].flatMap((b) => (wt.endsWith('x1') ? [`${wt}${b}`] : [`${wt}${b}`, `${wt}${b}s`])),
);
const configs = (values.configs?.split(',') ?? defaults).map(parseConfig);

const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
// The graph the stage runs on this CPU provider (precision auto: int8 where the bundle has one),
// so that raw runs the same one.
const graph = bundle.int8VideoPath ?? bundle.videoPath;
const clipShape = [m.frames, m.height, m.width, 3];
const clipBytes = clipShape.reduce((a, b) => a * b, 1);
const template = new Uint8Array(clipBytes).map((_, i) => (i * 31) & 255);

interface Window {
  clipsPerSecond: number;
  /** Clips per CPU-second of this process (all its threads): stable when other load varies. */
  clipsPerCpuSecond: number;
}

/** Times `run` (which reports how many clips it made) by wall clock and by this process's CPU time. */
async function timed(run: () => Promise<number>): Promise<Window> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const clips = await run();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { clipsPerSecond: clips / wall, clipsPerCpuSecond: clips / ((used.user + used.system) / 1e6) };
}

/** A raw configuration: its sessions loaded once, then measured window by window. */
async function rawConfig(c: RawConfig): Promise<{ measure: () => Promise<Window>; stop: () => Promise<void> }> {
  const workers = Array.from({ length: c.workers }, () => new Worker(new URL('./raw-session-worker.mjs', import.meta.url), {
    workerData: { path: graph, intraOpThreads: c.threads, spinning: c.spinning, batch: c.batch, clipShape },
  }));
  const reply = (w: Worker) => new Promise<{ clips: number; seconds: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(reply));
  return {
    measure: () => timed(async () => {
      const done = workers.map(reply);
      // Every session loaded and warm: all start together.
      for (const w of workers) w.postMessage({ seconds, minRuns: 2 });
      return (await Promise.all(done)).reduce((a, r) => a + r.clips, 0);
    }),
    stop: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  };
}

/** The daemon's stage with its own defaults, fed by `cameras` cameras while a window is open. */
async function stageRunner(): Promise<{ measure: () => Promise<Window>; settings: string; batches: () => Promise<string>; stop: () => Promise<void> }> {
  const options = modelOptions(configSchema.parse({ model: { bundle: bundle.dir, providers: ['cpu'] } }).model!);
  const registry = new Registry();
  const model = await openVideoModel(bundle, options, { log: pino({ level: 'warn' }), registry });
  const s = model.settings;
  const scheduler = clipScheduler(() => model);
  let active = false;
  let done = 0;
  let inFlight = 0;
  let replaced = 0;
  let drained: () => void = () => undefined;
  const streams = Array.from({ length: cameras }, (_, i) => {
    let seq = 0;
    // The next clip is submitted after the scheduler has started the one waiting, as a saturated
    // daemon's camera has a new clip waiting whenever a slot frees (submitted at once, it would
    // replace the waiting one, and the camera would run with none waiting).
    const settle = (): void => {
      inFlight--;
      if (active) queueMicrotask(submit);
      else if (inFlight === 0) drained();
    };
    const stream = scheduler.add(`cam${i}`, {
      result: () => {
        done++;
        settle();
      },
      failed: (e) => {
        console.error(`cam${i}: ${(e as Error).message}`);
        settle();
      },
      replaced: () => {
        replaced++;
        inFlight--;
        if (!active && inFlight === 0) drained();
      },
    });
    // As in the daemon under load: each camera has its share of the scheduler's slots in flight
    // and one clip waiting (a new one whenever one is back).
    const submit = (): void => {
      inFlight++;
      stream.submit({ camera: `cam${i}`, region: null, seq: seq++, frames: m.frames, height: m.height, width: m.width, data: template.slice(), firstFrameAt: 0, lastFrameAt: 0 } satisfies Clip);
    };
    return { submit, end: () => stream.end() };
  });
  return {
    settings: `${s.workers}x${s.intraOpThreads}b${s.maxBatch}${s.spinning ? 's' : ''}`,
    batches: async () => {
      const sizes = (await registry.getSingleMetric('msta_inference_batch_size')!.get()).values as { metricName?: string; value: number }[];
      const sum = sizes.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
      const count = sizes.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
      return `${count} batches of ${(sum / Math.max(1, count)).toFixed(2)} clips on average (at most ${s.maxBatch}); ${replaced} clips replaced while waiting`;
    },
    measure: () => timed(async () => {
      active = true;
      done = 0;
      const outstanding = Math.max(1, Math.floor((s.pipeline * s.workers * s.maxBatch) / cameras)) + 1;
      for (const st of streams) for (let i = 0; i < outstanding; i++) st.submit();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      active = false;
      // Clips finishing after the window still count (a full-size clip can outlast the window):
      // the wait for them is timed too.
      await new Promise<void>((resolve) => (inFlight === 0 ? resolve() : (drained = resolve)));
      return done;
    }),
    stop: async () => {
      await Promise.all(streams.map((st) => st.end()));
      await model.close();
    },
  };
}

console.log(`host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${host} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`bundle: ${m.name} (${m.frames}x${m.height}x${m.width}, ${bundle.int8VideoPath ? 'int8' : 'fp32'} graph), ${repeats} repeats of ${seconds} s, stage with ${cameras} cameras`);
const runners: { name: string; measure: () => Promise<Window>; stop: () => Promise<void> }[] = [];
for (const c of configs) runners.push({ name: `raw ${c.name}`, ...(await rawConfig(c)) });
const stage = await stageRunner();
const all = [{ name: `stage ${stage.settings}`, ...stage }, ...runners];
const rates = new Map<string, Window[]>(all.map((r) => [r.name, []]));
const windowMax: number[] = [];
// Windows interleaved, in a fresh random order each repeat, so that other load on the host hits
// them alike.
for (let r = 0; r < repeats; r++) {
  const got = new Map<string, Window>();
  for (const x of shuffled(all)) got.set(x.name, await x.measure());
  for (const [k, w] of got) rates.get(k)!.push(w);
  const st = got.get(all[0]!.name)!;
  const fastest = Math.max(...runners.map((x) => got.get(x.name)!.clipsPerSecond));
  windowMax.push(st.clipsPerSecond / fastest);
  console.log(`repeat ${r + 1}: stage ${st.clipsPerSecond.toFixed(2)} clips/s, fastest raw window ${fastest.toFixed(2)}`);
}
console.log('\nclips/s and clips per CPU-second, min / median / max:');
for (const x of all) {
  const w = rates.get(x.name)!;
  const digits = median(w.map((v) => v.clipsPerSecond)) < 10 ? 3 : 1;
  console.log(`  ${x.name.padEnd(16)} ${spread(w.map((v) => v.clipsPerSecond), digits)}   per CPU-s ${spread(w.map((v) => v.clipsPerCpuSecond), digits)}`);
}
// The best raw configuration is the one with the highest median over the repeats; the stage is
// compared with it window by window, in the same repeat. (The fastest of a repeat's raw windows
// is a maximum over a dozen noisy figures: it reads high by the box's spread, so it is shown apart.)
const stageRates = rates.get(all[0]!.name)!;
const bestOf = (key: keyof Window) => runners.reduce((a, b) => (median(rates.get(b.name)!.map((w) => w[key])) > median(rates.get(a.name)!.map((w) => w[key])) ? b : a));
const versus = (key: keyof Window, name: string) => rates.get(name)!.map((w, i) => stageRates[i]![key] / w[key]);
const best = bestOf('clipsPerSecond');
const bestCpu = bestOf('clipsPerCpuSecond');
const toBest = versus('clipsPerSecond', best.name);
console.log(`stage / best raw configuration (${best.name.slice(4)}), clips/s, same repeat: ${spread(toBest, 3)}  (goal >= 0.95)`);
console.log(`  each repeat: ${toBest.map((x) => x.toFixed(3)).join(', ')}`);
console.log(`stage / best raw configuration (${bestCpu.name.slice(4)}), per CPU-second:    ${spread(versus('clipsPerCpuSecond', bestCpu.name), 3)}`);
if (rates.has(`raw ${stage.settings}`)) console.log(`stage / raw at the stage's own settings, clips/s:         ${spread(versus('clipsPerSecond', `raw ${stage.settings}`), 3)}`);
console.log(`stage / the fastest raw window of each repeat:            ${spread(windowMax, 3)}`);
console.log(`stage: ${await stage.batches()}`);
await stage.stop();
for (const x of runners) await x.stop();
process.exit(0);
