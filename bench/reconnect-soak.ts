// Soak benchmark (not a test): a camera that reconnects again and again, through the real
// supervisor and real GStreamer child processes. Each connection's child is SIGKILLed once its
// first frame arrives, as a crashing camera pipeline would die; the supervisor reconnects.
// Every sample follows a forced GC, so the heap figures are retained objects, not garbage, and
// splits the parent's memory: RSS (anonymous and file-backed), V8 heap used, code space,
// external + array buffers, native (RSS minus the V8 heap's committed size), fds, threads, live
// handles/timers. It prints the series (so a plateau shows) and ratios against three starts:
// the first connection, after the warm-up (the goal's start), and reconnect --plateau-from.
// Goal: RSS flat within 5%, no child left after stop.
//   nice -n 10 node --expose-gc --import tsx bench/reconnect-soak.ts [--reconnects 1000] [--warmup 20] [--every 100] [--plateau-from 100]
import { readdirSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { cameraSource } from '../src/source/camera-source.js';
import { sourceChildCount } from '../src/source/child-process.js';

const { values } = parseArgs({
  options: {
    reconnects: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '20' },
    every: { type: 'string', default: '100' },
    'plateau-from': { type: 'string', default: '100' },
  },
});
const target = Number(values.reconnects);
const warmup = Number(values.warmup);
const every = Number(values.every);
const plateauFrom = Number(values['plateau-from']);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log('no --expose-gc: heap figures include garbage');
const MiB = 2 ** 20;
const statusKiB = (status: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]) / 1024;

interface Sample {
  reconnects: number;
  seconds: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  heapUsed: number;
  heapTotal: number;
  code: number;
  external: number;
  arrayBuffers: number;
  native: number;
  fds: number;
  threads: number;
  resources: number;
}
const began = Date.now();
function sample(reconnects: number): Sample {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const code = getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')?.space_used_size ?? 0;
  return {
    reconnects,
    seconds: (Date.now() - began) / 1000,
    rss: m.rss / MiB,
    rssAnon: statusKiB(status, 'RssAnon'),
    rssFile: statusKiB(status, 'RssFile'),
    heapUsed: m.heapUsed / MiB,
    heapTotal: m.heapTotal / MiB,
    code: code / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
    native: (m.rss - m.heapTotal) / MiB,
    fds: readdirSync('/proc/self/fd').length,
    threads: Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1]),
    resources: process.getActiveResourcesInfo().length,
  };
}
const columns: [keyof Sample, string, number][] = [
  ['reconnects', 'reconnects', 0], ['seconds', 's', 0], ['rss', 'rss', 1], ['rssAnon', 'anon', 1], ['rssFile', 'file', 1],
  ['heapUsed', 'heap', 2], ['heapTotal', 'heapTot', 1], ['code', 'code', 2], ['external', 'ext', 2], ['arrayBuffers', 'arrBuf', 2],
  ['native', 'rss-heapTot', 1], ['fds', 'fds', 0], ['threads', 'thr', 0], ['resources', 'handles', 0],
];
const row = (s: Sample) => columns.map(([k, , d]) => s[k].toFixed(d).padStart(10)).join('');
console.log(`MiB after a forced GC; anon/file: RssAnon/RssFile; handles: process.getActiveResourcesInfo()\n${columns.map(([, h]) => h.padStart(10)).join('')}`);

/** A process's start time (field 22 of /proc/PID/stat): with the pid, it names one process, even once the pid is reused. */
const startTime = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
  } catch {
    return undefined;
  }
};
/** Children that may still be alive, pruned at each sample so that the bench itself keeps nothing per reconnect. */
const children = new Map<number, string | undefined>();
let spawned = 0;
const alive = (pid: number) => {
  const started = startTime(pid);
  return started !== undefined && started === children.get(pid);
};
const prune = () => {
  for (const pid of children.keys()) if (!alive(pid)) children.delete(pid);
};

let pending: number | undefined; // the child to kill at its first frame
const quiet = () => undefined;
const source = cameraSource(
  { camera: 'soak', url: 'test://ball', width: 64, height: 48, stallTimeoutMs: 10_000, stopTimeoutMs: 2000, backoff: { initialMs: 1, maxMs: 5 } },
  {
    registry: new Registry(),
    log: {
      debug: (obj, msg) => {
        if (msg === 'source child started') {
          pending = (obj as { pid: number }).pid;
          children.set(pending, startTime(pending));
          spawned++;
        }
      },
      info: quiet,
      warn: quiet,
    },
  },
);

const series: Sample[] = [];
const record = (n: number) => {
  prune();
  const s = sample(n);
  series.push(s);
  console.log(`${row(s)}  ${sourceChildCount()} child alive`);
};
let maxChildren = 0;
const total = warmup + target;
const half = warmup + Math.round(target / 2);
const marks = new Set([0, warmup, plateauFrom + warmup, half, total]);
for (let n = warmup + every; n < total; n += every) marks.add(n);
const done = new Promise<void>((resolve) => {
  const sub = source.frames.subscribe(() => {
    maxChildren = Math.max(maxChildren, sourceChildCount());
    if (pending !== undefined) {
      process.kill(pending, 'SIGKILL');
      pending = undefined;
    }
    const n = source.counts().reconnects;
    if (marks.has(n) && series.at(-1)?.reconnects !== n) record(n);
    if (n >= total) {
      sub.unsubscribe();
      resolve();
    }
  });
});
await done;
const childrenRunning = sourceChildCount();
const deadline = Date.now() + 5000;
while ([...children.keys()].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const orphans = [...children.keys()].filter(alive).length;
const stopped = sample(total);
console.log(`${row(stopped)}  after the stop`);

const at = (n: number) => series.find((s) => s.reconnects === n)!;
const end = at(total);
const ratio = (from: Sample, k: keyof Sample) => `${(end[k] / from[k]).toFixed(3)} (${from[k].toFixed(1)} -> ${end[k].toFixed(1)})`;
const seconds = ((Date.now() - began) / 1000).toFixed(0);
console.log(`\n${target} reconnects after ${warmup} warm-up ones (${total} in all, ${spawned} child processes) in ${seconds} s`);
for (const [name, from] of [['first connection', at(0)], [`after ${warmup} warm-up reconnects (the goal's start)`, at(warmup)], [`reconnect ${warmup + plateauFrom}`, at(warmup + plateauFrom)]] as const) {
  console.log(`end / ${name}: RSS ${ratio(from, 'rss')}, anon ${ratio(from, 'rssAnon')}, heap after GC ${ratio(from, 'heapUsed')}, native ${ratio(from, 'native')} MiB`);
}
// Does it level off: each half of the run after the warm-up, and its growth per reconnect.
const perReconnect = (k: keyof Sample, a: Sample, b: Sample) => (((b[k] - a[k]) * 1024) / (b.reconnects - a.reconnects)).toFixed(2);
for (const [a, b] of [[at(warmup), at(half)], [at(half), end]] as const) {
  console.log(
    `reconnects ${a.reconnects}..${b.reconnects}: RSS ${(b.rss / a.rss).toFixed(3)} (${perReconnect('rss', a, b)} KiB per reconnect), heap after GC ${(b.heapUsed / a.heapUsed).toFixed(3)} (${perReconnect('heapUsed', a, b)} KiB), code ${perReconnect('code', a, b)} KiB, native ${perReconnect('native', a, b)} KiB per reconnect`,
  );
}
console.log(`goal: RSS end / start within 0.95..1.05, 0 orphans`);
console.log(`source children alive: at most ${maxChildren} at a time, ${childrenRunning} when the camera stopped, ${orphans} orphaned 5 s after the stop`);
process.exitCode = orphans === 0 ? 0 : 1;
