// Benchmark: a source child's memory per 1080p camera, against baselines measured in the same run.
// The child streams a 1080p H.264 file like a camera (realtime, looping, sampled as the daemon
// samples), spawned by runSourceChild as the daemon spawns it: the built child (dist/, production;
// `npm run build` first) and the child from the sources (tsx loader, development). Baselines: a bare
// `node`; `node` with GStreamer loaded; gst-launch-1.0 running the same pipeline into a fakesink
// (GStreamer alone: decoder, queues, buffers; it plays the file once, sampled until it ends), and
// the same with libav's default frame threading instead of the live pipeline's slice threads.
// Per process: RSS, PSS (shared pages split among their users) and private memory (what another
// camera adds: the node binary's and the libraries' code pages are shared by every child).
//   node --import tsx bench/source-memory.ts [--camera F] [--repeats 3] [--seconds 6] [--size 224] [--interval 160]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Observable } from 'rxjs';
import type { ChildEvent, ChildOptions } from '../src/source/child-process.js';
import { runSourceChild } from '../src/source/child-process.js';
import type { ChildRequest } from '../src/source/child-protocol.js';
import { appsinkName, buildPipelineDescription } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';
import { median, spread } from './stats.js';

const { values } = parseArgs({
  options: {
    camera: { type: 'string', default: resolve('../shared/media/two_people_1080p.mp4') },
    repeats: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
    size: { type: 'string', default: '224' },
    interval: { type: 'string', default: '160' },
  },
});
const repeats = Number(values.repeats);
const size = Number(values.size);
const request: ChildRequest = {
  url: values.camera, width: size, height: size, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: true, loop: true, sampleIntervalMs: Number(values.interval),
};

interface Memory {
  rss: number;
  pss: number;
  priv: number;
}

/** RSS, PSS and private memory (MB) of a process, or undefined once it is gone. */
function memory(pid: number): Memory | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? Number.NaN) / 1024;
    return { rss: kb('Rss'), pss: kb('Pss'), priv: kb('Private_Clean') + kb('Private_Dirty') };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each figure's peak over samples every 100 ms for `ms` after `settleMs` (fewer if the process ends). */
async function peak(pid: number, settleMs: number, ms: number): Promise<Memory> {
  await sleep(settleMs);
  const samples: Memory[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const m = memory(pid);
    if (!m) break;
    samples.push(m);
  }
  if (samples.length === 0) throw new Error(`process ${pid} ended before it was sampled`);
  return { rss: Math.max(...samples.map((s) => s.rss)), pss: Math.max(...samples.map((s) => s.pss)), priv: Math.max(...samples.map((s) => s.priv)) };
}

async function processPeak(command: string, args: string[], settleMs: number, ms: number): Promise<Memory> {
  const child = spawn(command, args, { stdio: 'ignore' });
  try {
    return await peak(child.pid!, settleMs, ms);
  } finally {
    child.kill('SIGKILL');
  }
}

type Run = (request: ChildRequest, options: ChildOptions) => Observable<ChildEvent>;

/** A source child streaming the camera, spawned by `run` (the daemon's runSourceChild): its peaks once frames flow. */
async function childPeak(run: Run, ms: number): Promise<Memory> {
  let pid = 0;
  let frames = 0;
  let failure: Error | undefined;
  const sub = run(request, { stopTimeoutMs: 2000 }).subscribe({
    next: (e) => {
      if (e.type === 'spawned') pid = e.pid;
      if (e.type === 'frame') frames++;
    },
    error: (e: Error) => (failure = e),
  });
  try {
    for (const end = Date.now() + 30_000; frames < 3 && !failure; await sleep(50)) if (Date.now() > end) throw new Error('no frames from the source child in 30 s');
    if (failure) throw failure;
    return await peak(pid, 2000, ms);
  } finally {
    sub.unsubscribe();
  }
}

const ms = Number(values.seconds) * 1000;
const distModule = resolve('dist/source/child-process.js');
const dist = existsSync(distModule) ? ((await import(pathToFileURL(distModule).href)) as { runSourceChild: Run }).runSourceChild : undefined;
const gstDescription = buildPipelineDescription(parseSourceUrl(values.camera), request, () => false).replace(new RegExp(`appsink name=${appsinkName(0)} .*$`), 'fakesink sync=true');
// The same pipeline with libav's default threading (frame threads): what the live pipeline's slice threads save.
const gstFrameThreads = gstDescription.replace(/ avdec_h26[45]-0::thread-type=slice/g, '');
const rows: Record<string, Memory[]> = {};
const add = (name: string, m: Memory) => (rows[name] ??= []).push(m);
console.log(`${repeats} repeats; ${values.camera} as a camera (realtime, looping, 1 frame per ${values.interval} ms, ${size}x${size}); node ${process.version}`);
console.log(`gst-launch-1.0 ${gstDescription}`);
for (let r = 0; r < repeats; r++) {
  add('bare node (baseline)', await processPeak(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], 1000, 1000));
  add('node with GStreamer loaded', await processPeak(process.execPath, ['-e', `require(${JSON.stringify(resolve('node_modules/gstreamer-superficial'))}); setTimeout(() => {}, 60000)`], 1000, 1000));
  // The file is 2.4 s long: sampled from 0.7 s until gst-launch-1.0 ends.
  add('gst-launch-1.0, same pipeline (baseline)', await processPeak('gst-launch-1.0', ['-q', ...gstDescription.split(' ')], 700, ms));
  add('gst-launch-1.0, libav frame threads (the default)', await processPeak('gst-launch-1.0', ['-q', ...gstFrameThreads.split(' ')], 700, ms));
  if (dist) add('source child, built (dist/, production)', await childPeak(dist, ms));
  add('source child, from the sources (tsx)', await childPeak(runSourceChild, ms));
}
if (!dist) console.log('no built child (dist/source/child-process.js): run `npm run build` to measure the production child');
const base = rows['bare node (baseline)']!;
const gst = rows['gst-launch-1.0, same pipeline (baseline)']!;
const fig = (xs: Memory[], k: keyof Memory) => spread(xs.map((x) => x[k]), 1);
const ratio = (xs: Memory[], ys: Memory[], k: keyof Memory) => spread(xs.map((x, i) => x[k] / ys[i]![k]), 2);
for (const [name, xs] of Object.entries(rows)) {
  console.log(`${name}: RSS ${fig(xs, 'rss')} MB, PSS ${fig(xs, 'pss')} MB, private ${fig(xs, 'priv')} MB (min / median / max of ${xs.length} peaks)`);
  if (!name.startsWith('source child')) continue;
  console.log(`  vs gst-launch-1.0: RSS ${ratio(xs, gst, 'rss')}, private ${ratio(xs, gst, 'priv')}; minus bare node: RSS ${spread(xs.map((x, i) => x.rss - base[i]!.rss), 1)} MB`);
}
const child = rows['source child, built (dist/, production)'] ?? rows['source child, from the sources (tsx)']!;
console.log(`per camera (private memory of the ${dist ? 'built' : 'tsx'} child, median): ${median(child.map((x) => x.priv)).toFixed(1)} MB; its RSS: ${median(child.map((x) => x.rss)).toFixed(1)} MB`);
