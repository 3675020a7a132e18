// Benchmark: the main thread's event-loop lag while inference keeps the cores busy.
// Inference runs in worker threads (onnxruntime's run() blocks its thread), so the loop that
// serves MQTT, HTTP and the sources must stay responsive: target p99 < 20 ms.
//   node --import tsx bench/event-loop-lag.ts [--seconds 20] [--workers 4] [--cameras 8]
// (the defaults keep both cores of a small box busy: measured 84% of 2 cores)
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import type { Clip } from '../src/types.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, workers: { type: 'string', default: '4' }, cameras: { type: 'string', default: '8' }, bundle: { type: 'string', default: 'models/synthetic-actions' } } });
const seconds = Number(values.seconds);
const cameras = Number(values.cameras);

const bundle = await readBundle(values.bundle);
const m = bundle.manifest;
const model = await openVideoModel(
  bundle,
  { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, precision: 'auto', tensorrt: { fp16: false, engineCacheDir: '/tmp' }, workers: Number(values.workers), maxBatch: 4, maxWaitMs: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 1 },
  { log: pino({ level: 'warn' }), registry: new Registry() },
);
const clipBytes = m.frames * m.height * m.width * 3;
const template = new Uint8Array(clipBytes).map((_, i) => (i * 31) & 255);

function measureLag(ms: number): Promise<{ p50: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return new Promise((resolve) =>
    setTimeout(() => {
      h.disable();
      resolve({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 });
    }, ms),
  );
}

const idle = await measureLag(Math.min(5000, seconds * 250));

// Each camera submits its next clip as soon as the previous one is embedded: the cores stay busy.
let done = 0;
let running = true;
const latencies: number[] = [];
async function camera(id: number): Promise<void> {
  for (let seq = 0; running; seq++) {
    const clip: Clip = { camera: `cam${id}`, region: null, seq, frames: m.frames, height: m.height, width: m.width, data: template.slice(), firstFrameAt: 0, lastFrameAt: 0 };
    const started = performance.now();
    await model.embedClip(clip);
    latencies.push(performance.now() - started);
    done++;
  }
}
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
const loops = Array.from({ length: cameras }, (_, i) => camera(i));
const busy = await measureLag(seconds * 1000);
running = false;
await Promise.all(loops);
const wall = (performance.now() - wallBefore) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await model.close();

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
console.log(`cores ${cpus().length}, workers ${values.workers}, cameras ${cameras}, ${seconds} s, bundle ${m.name} (${m.frames}x${m.height}x${m.width})`);
console.log(`clips embedded: ${done} (${(done / wall).toFixed(1)} clips/s), per-clip latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms`);
console.log(`process CPU while busy: ${((cpu.user + cpu.system) / 1e6 / wall / cpus().length * 100).toFixed(0)}% of all cores`);
console.log(`event-loop lag idle: p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms, max ${idle.max.toFixed(2)} ms`);
console.log(`event-loop lag busy: p50 ${busy.p50.toFixed(2)} ms, p99 ${busy.p99.toFixed(2)} ms, max ${busy.max.toFixed(2)} ms (target p99 < 20 ms)`);
console.log(`busy/idle p99 ratio: ${(busy.p99 / idle.p99).toFixed(2)}`);
