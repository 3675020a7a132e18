// Benchmark: how long starting a child process blocks the daemon's main thread (every source
// child's start and every reconnect) once the model is loaded in the inference workers. fork()
// copies the parent's page tables, so the stall grows with its memory: a full-size model's 2 GB
// of onnxruntime arenas. Measured with glibc's default malloc and with the GLIBC_TUNABLES the
// systemd unit and the images set (glibc.malloc.hugetlb=1: malloc'd memory in transparent huge
// pages, 512 times fewer page-table entries to copy; and a fixed mmap threshold). Each variant is
// this script run again as a child process with its environment (tunables are read at process
// start), the variants interleaved per repeat.
//   node --import tsx bench/spawn-stall.ts [--bundle DIR] [--repeats 3] [--spawns 10]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { configSchema } from '../src/config/schema.js';
import { modelOptions } from '../src/daemon/model-options.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import { median, report, spread } from './stats.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: process.env.MSTA_FULL_BUNDLE ?? '/work/cache/full-bundle' },
    repeats: { type: 'string', default: '3' },
    spawns: { type: 'string', default: '10' },
    measure: { type: 'boolean', default: false },
  },
});

const TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=131072';

interface Measured {
  /** Median ms that spawn() blocked, over the spawns. */
  stallMs: number;
  rssMb: number;
  hugeMb: number;
}

/** In the child: load the model as the daemon does, infer once per worker, then time spawn() calls. */
async function measure(): Promise<Measured> {
  const bundle = await readBundle(values.bundle);
  const m = bundle.manifest;
  const model = await openVideoModel(bundle, modelOptions(configSchema.parse({ model: { bundle: bundle.dir, providers: ['cpu'] } }).model!), { log: pino({ level: 'warn' }), registry: new Registry() });
  // One clip per worker: their arenas grow to a run's size, as in the daemon once clips flow.
  await Promise.all(Array.from({ length: model.settings.workers }, (_, i) => model.embedClip({ camera: `c${i}`, region: null, seq: 0, frames: m.frames, height: m.height, width: m.width, data: new Uint8Array(m.frames * m.height * m.width * 3), firstFrameAt: 0, lastFrameAt: 0 })));
  const stalls: number[] = [];
  for (let i = 0; i < Number(values.spawns); i++) {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    stalls.push(performance.now() - started);
    await new Promise((r) => child.once('exit', r));
  }
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN) / 1024;
  await model.close();
  return { stallMs: median(stalls), rssMb: mb('Rss'), hugeMb: mb('AnonHugePages') };
}

if (values.measure) {
  console.log(JSON.stringify(await measure()));
  process.exit(0);
}

const run = (tunables: string | undefined): Measured => {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  if (tunables) env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', '--bundle', values.bundle, '--spawns', values.spawns], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measuring child failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measured;
};

const plain: Measured[] = [];
const huge: Measured[] = [];
for (let i = 0; i < Number(values.repeats); i++) {
  plain.push(run(undefined));
  huge.push(run(TUNABLES));
}
console.log(`bundle ${values.bundle}; ${values.repeats} repeats of ${values.spawns} spawns each, the median per repeat`);
report(`spawn() blocking the main thread, GLIBC_TUNABLES=${TUNABLES}`, 'ms', huge.map((h) => h.stallMs), 'glibc defaults (baseline)', plain.map((p) => p.stallMs), 1);
console.log(`  parent RSS: hugetlb ${spread(huge.map((h) => h.rssMb), 0)} MB (in huge pages ${spread(huge.map((h) => h.hugeMb), 0)}), defaults ${spread(plain.map((p) => p.rssMb), 0)} MB`);
