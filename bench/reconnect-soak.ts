// Soak benchmark (not a test): a camera that reconnects again and again, through the real
// supervisor and real GStreamer child processes. Each connection's child is SIGKILLed once its
// first frame arrives, as a crashing camera pipeline would die; the supervisor reconnects. Prints
// the parent's RSS, heap, fds and threads at the start and the end, and the source children
// alive. Goal: RSS flat within 5%, no child left after stop.
//   nice -n 10 node --expose-gc --import tsx bench/reconnect-soak.ts [--reconnects 1000] [--warmup 20]
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { cameraSource } from '../src/source/camera-source.js';
import { sourceChildCount } from '../src/source/child-process.js';

const { values } = parseArgs({ options: { reconnects: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '20' }, every: { type: 'string', default: '100' } } });
const target = Number(values.reconnects);
const warmup = Number(values.warmup);
const every = Number(values.every);

const gc = (globalThis as { gc?: () => void }).gc;
function sample(): { rssMiB: number; heapMiB: number; fds: number; threads: number } {
  gc?.();
  const m = process.memoryUsage();
  const threads = Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, fds: readdirSync('/proc/self/fd').length, threads };
}
const fmt = (s: ReturnType<typeof sample>) => `rss ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, ${s.fds} fds, ${s.threads} threads`;
/** A process's start time (field 22 of /proc/PID/stat): with the pid, it names one process, even once the pid is reused. */
const startTime = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
  } catch {
    return undefined;
  }
};
const children = new Map<number, string | undefined>();
const alive = (pid: number) => {
  const started = startTime(pid);
  return started !== undefined && started === children.get(pid);
};

const pids: number[] = [];
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
          pids.push(pending);
          children.set(pending, startTime(pending));
        }
      },
      info: quiet,
      warn: quiet,
    },
  },
);

let start: ReturnType<typeof sample> | undefined;
const rssSeries: number[] = [];
const began = Date.now();
let maxChildren = 0;
const done = new Promise<void>((resolve) => {
  const sub = source.frames.subscribe(() => {
    maxChildren = Math.max(maxChildren, sourceChildCount());
    if (pending !== undefined) {
      process.kill(pending, 'SIGKILL');
      pending = undefined;
    }
    const n = source.counts().reconnects;
    if (n === warmup && !start) {
      start = sample();
      console.log(`after ${warmup} warm-up reconnects: ${fmt(start)}`);
    }
    if (start && n > warmup && (n - warmup) % every === 0 && rssSeries.length < (n - warmup) / every) {
      const s = sample();
      rssSeries.push(s.rssMiB);
      console.log(`${n - warmup} reconnects (${((Date.now() - began) / 1000).toFixed(0)} s): ${fmt(s)}, ${sourceChildCount()} child(ren) alive`);
    }
    if (n >= warmup + target) {
      sub.unsubscribe();
      resolve();
    }
  });
});
await done;
const end = sample();
const childrenRunning = sourceChildCount();
const deadline = Date.now() + 5000;
while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const orphans = pids.filter(alive).length;
const sorted = [...rssSeries].sort((a, b) => a - b);
console.log(`\n${target} reconnects (after ${warmup} warm-up) in ${((Date.now() - began) / 1000).toFixed(0)} s, ${pids.length} child processes in all`);
console.log(`start: ${fmt(start!)}`);
console.log(`end:   ${fmt(end)}`);
console.log(`RSS end/start: ${(end.rssMiB / start!.rssMiB).toFixed(3)} (goal within 0.95..1.05); RSS every ${every}: min ${sorted[0]?.toFixed(1)} median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} max ${sorted.at(-1)?.toFixed(1)} MiB`);
console.log(`source children alive: at most ${maxChildren} at a time, ${childrenRunning} when the camera stopped, ${orphans} orphaned 5 s after the stop`);
process.exitCode = orphans === 0 ? 0 : 1;
