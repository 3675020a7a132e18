// Benchmark: event latency minus inference on the whole path, in one run of the real daemon:
// `msta-edge run` with N RTSP cameras (gst-rtsp-server serving the demo video to each) -> source
// children -> clips -> fair scheduler -> onnxruntime workers -> recognition -> event store -> a real
// Mosquitto. Figures come from the daemon's own /metrics, scraped at the start and end of a window
// once every camera streams: the deltas of msta_event_overhead_seconds (each event's latency less
// its clip's inference) and msta_event_latency_seconds over the window, p50 / p99 interpolated
// linearly within buckets as Prometheus's histogram_quantile does, and nodejs_eventloop_lag_p99_seconds
// (prom-client resets it at each scrape: the window's; it counts the whole interval between its
// timer's ticks, so it includes the 10 ms sampling interval). Each repeat is a fresh daemon.
// CPU over the window (cores): the daemon, its source children, the RTSP server (the test's
// cameras, re-encoding the video for each), and the whole box (the rest is other people's work).
// Every clip of an active action sends an update (update_every_clips 1), so a repeat has a few
// hundred events: each goes through the same path as a start or an end. The latency ends when an
// event is handed to the broker's connection; the broker's PUBACK after that is reported apart
// (msta_mqtt_event_ack_seconds), with Mosquitto's defaults unless --broker-nodelay
// (set_tcp_nodelay true).
//   node --import tsx bench/event-overhead.ts [--cameras 8] [--seconds 45] [--warmup 10] [--repeats 3]
//     [--bundle models/synthetic-actions] [--media models/demo/actions-demo.mp4] [--broker-nodelay]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { RtspServer } from '../test/support/rtsp-server.js';
import { loopVideo } from '../test/support/synth.js';
import { spread } from './stats.js';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '45' },
    warmup: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '3' },
    bundle: { type: 'string', default: 'models/synthetic-actions' },
    media: { type: 'string', default: 'models/demo/actions-demo.mp4' },
    'broker-nodelay': { type: 'boolean', default: false },
  },
});
const CAMERAS = Array.from({ length: Number(values.cameras) }, (_, i) => `cam${i + 1}`);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const GOAL_MS = 15;
const LAG_GOAL_MS = 20;
/** prom-client's event-loop sampling interval (eventLoopMonitoringPrecision in src/metrics/create-registry.ts). */
const LAG_INTERVAL_MS = 10;

type Buckets = Map<number, number>;
interface Scrape {
  overhead: { buckets: Buckets; sum: number; count: number };
  latency: { buckets: Buckets; sum: number; count: number };
  ack: { buckets: Buckets; sum: number; count: number };
  lag: { p99: number; max: number };
  up: number;
}

/** A histogram's cumulative bucket counts summed over its series (every camera), by `le`. */
function histogram(text: string, name: string): Scrape['overhead'] {
  const buckets: Buckets = new Map();
  let sum = 0;
  let count = 0;
  for (const [, suffix, labels, value] of text.matchAll(new RegExp(`^${name}_(bucket|sum|count)(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const v = Number(value);
    if (suffix === 'sum') sum += v;
    else if (suffix === 'count') count += v;
    else {
      const le = Number(/le="([^"]+)"/.exec(labels!)![1]!.replace('+Inf', 'Infinity'));
      buckets.set(le, (buckets.get(le) ?? 0) + v);
    }
  }
  return { buckets, sum, count };
}

async function scrape(address: string): Promise<Scrape> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    overhead: histogram(text, 'msta_event_overhead_seconds'),
    latency: histogram(text, 'msta_event_latency_seconds'),
    ack: histogram(text, 'msta_mqtt_event_ack_seconds'),
    lag: { p99: gauge('nodejs_eventloop_lag_p99_seconds'), max: gauge('nodejs_eventloop_lag_max_seconds') },
    up: [...text.matchAll(/^msta_source_up\{camera="[^"]+"\} 1$/gm)].length,
  };
}

function minus(b: Scrape['overhead'], a: Scrape['overhead']): Scrape['overhead'] {
  return { buckets: new Map([...b.buckets].map(([le, n]) => [le, n - (a.buckets.get(le) ?? 0)])), sum: b.sum - a.sum, count: b.count - a.count };
}

/** Prometheus's histogram_quantile: linear within the bucket that holds rank q x count (the first from 0); the top finite bound if it is +Inf's. */
function quantile(q: number, h: Scrape['overhead']): number {
  const les = [...h.buckets.keys()].sort((x, y) => x - y);
  const total = h.buckets.get(Infinity) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of les) {
    const n = h.buckets.get(le)!;
    if (n >= rank) return le === Infinity ? lower : lower + ((le - lower) * (rank - below)) / Math.max(n - below, 1e-9);
    lower = le;
    below = n;
  }
  return Number.NaN;
}

const TICKS = 100; // USER_HZ: /proc's CPU times are in these

/** CPU seconds (user + system) a process has used, its threads included; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole box has been busy (not idle, not waiting for I/O). */
function boxBusySeconds(): number {
  // user nice system idle iowait irq softirq steal
  const t = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return (t.reduce((a, b) => a + b, 0) - t[3]! - t[4]!) / TICKS;
}

interface Cpu {
  daemon: number;
  children: number;
  rtsp: number;
  box: number;
}

function cpuNow(daemon: number, children: number[], rtsp: number): Cpu {
  return { daemon: cpuSeconds(daemon), children: children.reduce((a, pid) => a + cpuSeconds(pid), 0), rtsp: cpuSeconds(rtsp), box: boxBusySeconds() };
}

interface Run {
  events: number;
  /** Share of the events over the goal (a bucket bound: no interpolation). */
  overGoal: number;
  /** p50, p99 (ms). */
  overhead: number[];
  latency: number[];
  /** The broker's PUBACK after the hand-off, p50, p99 (ms). */
  ack: number[];
  inferenceMs: number;
  lagMs: number;
  lagMaxMs: number;
  load: number[];
  /** Cores used over the window. */
  cores: Cpu;
}

async function repeat(config: string, password: string, rtspPid: number): Promise<Run> {
  const daemon = DaemonProcess.start(['--config', config], { CAM_PW: password });
  try {
    const address = await daemon.httpAddress();
    const deadline = Date.now() + 120_000;
    while ((await scrape(address)).up < CAMERAS.length) {
      if (Date.now() > deadline) throw new Error(`not every camera streaming within 120 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, WARMUP * 1000));
    const children = spawnSync('pgrep', ['-P', String(daemon.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    const cpuBefore = cpuNow(daemon.pid, children, rtspPid);
    const started = performance.now();
    const before = await scrape(address);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const after = await scrape(address);
    const cpuAfter = cpuNow(daemon.pid, children, rtspPid);
    const elapsed = (performance.now() - started) / 1000;
    const per = (k: keyof Cpu) => (cpuAfter[k] - cpuBefore[k]) / elapsed;
    const load = loadavg();
    if (after.up < CAMERAS.length) throw new Error(`${CAMERAS.length - after.up} camera(s) stopped streaming during the window`);
    const overhead = minus(after.overhead, before.overhead);
    const latency = minus(after.latency, before.latency);
    const ack = minus(after.ack, before.ack);
    return {
      events: overhead.count,
      overGoal: 1 - overhead.buckets.get(GOAL_MS / 1000)! / overhead.count,
      overhead: [quantile(0.5, overhead) * 1000, quantile(0.99, overhead) * 1000],
      latency: [quantile(0.5, latency) * 1000, quantile(0.99, latency) * 1000],
      ack: [quantile(0.5, ack) * 1000, quantile(0.99, ack) * 1000],
      // The events' mean inference: what the two histograms' sums differ by.
      inferenceMs: ((latency.sum - overhead.sum) / Math.max(1, overhead.count)) * 1000,
      lagMs: after.lag.p99 * 1000,
      lagMaxMs: after.lag.max * 1000,
      load,
      cores: { daemon: per('daemon'), children: per('children'), rtsp: per('rtsp'), box: per('box') },
    };
  } finally {
    await daemon.stop('SIGTERM');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'msta-bench-overhead-'));
// Longer than a repeat: a camera that reaches the end of the stream reconnects, which is not the steady state measured here.
const media = join(dir, 'media.mp4');
const mediaSeconds = Number(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', resolve(values.media)], { encoding: 'utf8' }).stdout);
if (!(mediaSeconds > 0)) throw new Error(`ffprobe could not read the duration of ${values.media}`);
loopVideo(resolve(values.media), Math.ceil((120 + WARMUP + SECONDS) / mediaSeconds), media);
const password = randomBytes(9).toString('base64url');
const broker = await startMosquitto({ tcpNoDelay: values['broker-nodelay'] });
const rtsp = await RtspServer.start({ media, user: 'viewer', password });
const config = join(dir, 'msta-edge.yaml');
writeFileSync(
  config,
  [
    'cameras:',
    ...CAMERAS.flatMap((id) => [`  - id: ${id}`, `    url: rtsp://viewer:\${CAM_PW}@127.0.0.1:${rtsp.port}/media`]),
    'model:',
    `  bundle: ${resolve(values.bundle)}`,
    '  providers: [cpu]',
    'labels:',
    '  background: nothing happening',
    // The end-to-end test's settings, which find the demo's actions; an update on every clip of one.
    'recognition: { stride: 2, start: 0.5, end: 0.3, min_clips: 2, update_every_clips: 1 }',
    `mqtt: { url: ${broker.url} }`,
    'http: { listen: 127.0.0.1:0 }',
    'logging: { format: json }',
    '',
  ].join('\n'),
);
console.log(
  `${CAMERAS.length} RTSP cameras (the demo video, looped), bundle ${values.bundle}, inference settings auto, Mosquitto set_tcp_nodelay ${values['broker-nodelay']}; ${WARMUP} s warm-up once all stream, then ${SECONDS} s measured; ${values.repeats} repeats, a fresh daemon each; ` +
    `load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
const runs: Run[] = [];
try {
  for (let i = 0; i < Number(values.repeats); i++) {
    const r = await repeat(config, password, rtsp.pid!);
    runs.push(r);
    console.log(
      `repeat ${i + 1}: ${r.events} events; less inference p50 ${r.overhead[0]!.toFixed(1)} ms, p99 ${r.overhead[1]!.toFixed(1)} ms; whole latency p50 ${r.latency[0]!.toFixed(1)} ms, p99 ${r.latency[1]!.toFixed(1)} ms; broker PUBACK after it p50 ${r.ack[0]!.toFixed(1)} ms, p99 ${r.ack[1]!.toFixed(1)} ms; ` +
        `over ${GOAL_MS} ms ${(r.overGoal * 100).toFixed(1)}%; mean inference per event ${r.inferenceMs.toFixed(1)} ms; event-loop lag p99 ${r.lagMs.toFixed(1)} ms, max ${r.lagMaxMs.toFixed(1)} ms; ` +
        `cores of ${cpus().length}: daemon ${r.cores.daemon.toFixed(2)}, its source children ${r.cores.children.toFixed(2)}, RTSP server ${r.cores.rtsp.toFixed(2)}, whole box ${r.cores.box.toFixed(2)}; load average at the end ${r.load.map((l) => l.toFixed(2)).join(' ')}`,
    );
  }
} finally {
  await rtsp.kill();
  await broker.dispose();
  rmSync(dir, { recursive: true, force: true });
}
const col = (f: (r: Run) => number) => spread(runs.map(f), 1);
console.log(`event latency less inference p99: ${col((r) => r.overhead[1]!)} ms (min / median / max of ${runs.length}); goal <= ${GOAL_MS} ms`);
console.log(`  p50: ${col((r) => r.overhead[0]!)} ms; events over ${GOAL_MS} ms: ${spread(runs.map((r) => r.overGoal * 100), 1)}% (a bucket bound, not interpolated; the goal allows 1%)`);
console.log(`  whole event latency p50: ${col((r) => r.latency[0]!)} ms, p99: ${col((r) => r.latency[1]!)} ms; mean inference per event ${col((r) => r.inferenceMs)} ms`);
console.log(`  the broker's PUBACK after the hand-off (msta_mqtt_event_ack_seconds) p50: ${col((r) => r.ack[0]!)} ms, p99: ${col((r) => r.ack[1]!)} ms`);
console.log(`  event-loop lag p99 beyond the ${LAG_INTERVAL_MS} ms sampling interval: ${col((r) => r.lagMs - LAG_INTERVAL_MS)} ms (nodejs_eventloop_lag_p99_seconds ${col((r) => r.lagMs)} ms); goal < ${LAG_GOAL_MS} ms; max ${col((r) => r.lagMaxMs)} ms`);
const cores = (f: (c: Cpu) => number) => spread(runs.map((r) => f(r.cores)), 2);
console.log(`  cores busy: daemon and its source children ${cores((c) => c.daemon + c.children)}, RTSP server ${cores((c) => c.rtsp)}, whole box ${cores((c) => c.box)} of ${cpus().length}`);
console.log(`  events per repeat: ${runs.map((r) => r.events).join(', ')}; 1-minute load average at the end of each: ${runs.map((r) => r.load[0]!.toFixed(2)).join(', ')}`);
