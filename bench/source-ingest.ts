// Benchmark: the source stage against its limits, each in the same run with repeats.
//  1. ingest: a file decoded offline (every frame, as fast as possible) through the source child
//     vs gst-launch-1.0 running the same pipeline into a fakesink;
//  2. the parent's main-thread CPU per frame while ingesting vs a bare Node pipe read of the same
//     bytes from a child that only writes them;
// (The child's memory per camera: bench/source-memory.ts.)
//   node --import tsx bench/source-ingest.ts [--file F] [--repeats 3] [--size 224]
import { parseArgs } from 'node:util';
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { filter, lastValueFrom, tap } from 'rxjs';
import { runSourceChild } from '../src/source/child-process.js';
import type { ChildRequest } from '../src/source/child-protocol.js';
import { buildPipelineDescription, appsinkName } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';
import { RECORD_HEADER_BYTES } from '../src/source/frame-record.js';
import { report } from './stats.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string', default: resolve('models/demo/actions-demo.mp4') }, // 740 frames: start-up noise amortised
    repeats: { type: 'string', default: '3' },
    size: { type: 'string', default: '224' },
  },
});
const repeats = Number(values.repeats);
const size = Number(values.size);
const request = (url: string, extra: Partial<ChildRequest> = {}): ChildRequest => ({ url, width: size, height: size, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: false, loop: false, ...extra });

/** Frames/s and the parent's CPU µs per frame for one offline decode through the child, timed from its first frame. */
async function ingest(url: string): Promise<{ fps: number; cpuUsPerFrame: number }> {
  let frames = 0;
  let cpu = process.cpuUsage();
  let started = performance.now();
  await lastValueFrom(
    runSourceChild(request(url), { stopTimeoutMs: 2000 }).pipe(
      filter((e) => e.type === 'frame'),
      tap(() => {
        if (frames++ > 0) return;
        cpu = process.cpuUsage();
        started = performance.now();
      }),
    ),
    { defaultValue: undefined },
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { fps: (frames - 1) / seconds, cpuUsPerFrame: (used.user + used.system) / (frames - 1) };
}

function timed(args: string[]): number {
  const started = performance.now();
  execFileSync('gst-launch-1.0', args, { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

/**
 * The same pipeline in gst-launch-1.0, appsink swapped for a fakesink: frames/s, less the tool's
 * own start-up up to its first frame (the same pipeline ended after one frame, timed alongside),
 * as the child is timed from its first frame.
 */
function gstLaunch(url: string, frames: number): number {
  const description = buildPipelineDescription(parseSourceUrl(url), request(url), () => false);
  const sink = new RegExp(`appsink name=${appsinkName(0)} .*$`);
  const first = ['-q', ...description.replace(sink, 'identity eos-after=1 ! fakesink sync=false').split(' ')];
  const startup = Math.min(timed(first), timed(first));
  return (frames - 1) / Math.max(1e-3, timed(['-q', ...description.replace(sink, 'fakesink sync=false').split(' ')]) - startup);
}

/** Parent CPU µs per frame reading `frames` records of `bytes` from a child that only writes them. */
function barePipe(frames: number, bytes: number): Promise<number> {
  const writer = `const b = Buffer.alloc(${bytes + RECORD_HEADER_BYTES}); let n = 0; const w = () => { while (n < ${frames}) { n++; if (!process.stdout.write(b)) return process.stdout.once('drain', w); } process.stdout.end(); }; w();`;
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
    const cpu = process.cpuUsage();
    let got = 0;
    child.stdout.on('data', (c: Buffer) => (got += c.length));
    child.on('close', () => {
      const used = process.cpuUsage(cpu);
      done((used.user + used.system) / (got / (bytes + RECORD_HEADER_BYTES)));
    });
  });
}

const frameBytes = size * size * 3;
const fileFrames = Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', values.file]).toString().trim());
console.log(`cores ${cpus().length} (${cpus()[0]?.model}), ${repeats} repeats; ${values.file} (${fileFrames} frames) at ${size}x${size}; node ${process.version}; NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}`);
const ours: number[] = [];
const theirs: number[] = [];
const cpuOurs: number[] = [];
const cpuBare: number[] = [];
for (let r = 0; r < repeats; r++) {
  const i = await ingest(values.file);
  ours.push(i.fps);
  cpuOurs.push(i.cpuUsPerFrame);
  theirs.push(gstLaunch(values.file, fileFrames));
  cpuBare.push(await barePipe(fileFrames, frameBytes));
}
report('1. ingest, offline decode through the source child', 'frames/s', ours, 'gst-launch-1.0, same pipeline, fakesink (baseline)', theirs, 0);
report('2. parent main-thread CPU per frame', 'µs', cpuOurs, 'bare Node pipe read of the same bytes (baseline)', cpuBare, 0);

