// `npm run bench`: every benchmark in turn, each printing its figures against a baseline measured
// in the same run (min / median / max of repeats). Full-size figures need the cached random-weights
// ViCLIP-B/16 bundle (bench/make-full-bundle.sh DIR --int8; DIR from MSTA_FULL_BUNDLE, default
// /work/cache/full-bundle); without it they are skipped, saying so. Heavy: run it on an idle box.
//   npm run bench [-- --only NAME[,NAME]] [-- --quick]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const full = process.env.MSTA_FULL_BUNDLE ?? '/work/cache/full-bundle';
const haveFull = existsSync(join(full, 'bundle.json'));
const q = values.quick;
const benches: { name: string; script: string; args: string[]; needsFull?: boolean }[] = [
  { name: 'source-ingest', script: 'source-ingest.ts', args: q ? ['--repeats', '1'] : [] },
  { name: 'source-memory', script: 'source-memory.ts', args: q ? ['--repeats', '1', '--seconds', '3'] : [] },
  { name: 'source-regions', script: 'source-regions.ts', args: q ? ['--repeats', '1'] : [] },
  { name: 'snapshot-branch', script: 'snapshot-branch.ts', args: q ? ['--repeats', '1', '--seconds', '3'] : [] },
  { name: 'stage-vs-raw', script: 'stage-vs-raw.ts', args: q ? ['--repeats', '1', '--runs', '5'] : [] },
  { name: 'inference-stage', script: 'inference-stage.ts', args: q ? ['--repeats', '1', '--seconds', '3'] : ['--repeats', '7', '--seconds', '3'] },
  { name: 'inference-stage-full', script: 'inference-stage.ts', args: ['--bundle', full, '--cameras', '4', '--repeats', q ? '1' : '2', '--seconds', '10', '--configs', '2x1b1,1x2b1,1x2b1s'], needsFull: true },
  { name: 'spawn-stall-full', script: 'spawn-stall.ts', args: ['--bundle', full, ...(q ? ['--repeats', '1', '--spawns', '5'] : [])], needsFull: true },
  { name: 'stage-vs-raw-full', script: 'stage-vs-raw.ts', args: ['--bundle', full, '--runs', q ? '1' : '2', '--threads', '2'], needsFull: true },
  { name: 'sink-latency', script: 'sink-latency.ts', args: q ? ['--repeats', '1'] : [] },
  { name: 'event-loop-lag', script: 'event-loop-lag.ts', args: q ? ['--seconds', '5'] : [] },
  { name: 'cameras', script: 'cameras.ts', args: q ? ['--cameras', '1,4', '--seconds', '10'] : [] },
  { name: 'event-overhead', script: 'event-overhead.ts', args: q ? ['--repeats', '1', '--seconds', '15'] : [] },
  { name: 'int8-speed', script: 'int8-speed.ts', args: ['--bundle', full, ...(q ? ['--repeats', '1', '--runs', '1'] : [])], needsFull: true },
  // One intra-op thread: what each of the daemon's workers runs on a host of up to 4 cores.
  { name: 'int8-speed-1t', script: 'int8-speed.ts', args: ['--bundle', full, '--threads', '1', ...(q ? ['--repeats', '1', '--runs', '1'] : [])], needsFull: true },
  // The daemon's layout on a CPU host: a one-thread worker per core (up to 4), all running at once.
  { name: 'int8-speed-workers', script: 'int8-speed.ts', args: ['--bundle', full, '--threads', '1', '--workers', String(Math.min(4, availableParallelism())), '--clips', '0', ...(q ? ['--repeats', '1', '--runs', '1'] : [])], needsFull: true },
  { name: 'coverage-full', script: 'cameras.ts', args: ['--bundle', full, '--cameras', '4', '--seconds', q ? '30' : '60'], needsFull: true },
];
const only = values.only?.split(',');
let failed = 0;
for (const b of benches) {
  if (only && !only.includes(b.name)) continue;
  console.log(`\n== ${b.name}: bench/${b.script} ${b.args.join(' ')}`);
  if (b.needsFull && !haveFull) {
    console.log(`skipped: no full-size bundle at ${full} (make it: bench/make-full-bundle.sh ${full} --int8)`);
    continue;
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('bench', b.script), ...b.args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
