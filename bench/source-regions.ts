// Benchmark: what regions of interest and masks cost in the source pipeline. The same file is
// decoded offline (every sampled frame, as fast as possible) by gst-launch-1.0 with the camera's
// description, its appsinks swapped for fakesinks, as the whole camera (the baseline, one branch)
// and with 2 and 4 regions (a tee, per region a scale, crop and letterbox) and 2 regions with
// masks (plus a BGRA conversion and an SVG overlay per branch). Figures: the process's CPU seconds
// (user + sys), min / median / max over repeats, interleaved, and their ratios to the baseline.
//   node --import tsx bench/source-regions.ts [--file F] [--repeats 3] [--size 224] [--interval 160]
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { buildPipelineDescription, type FrameStream, type PipelineOptions } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';
import { gstLaunchCpuSeconds } from './gst-launch-cpu.js';
import { report } from './stats.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string', default: resolve('../shared/media/two_people_1080p.mp4') },
    repeats: { type: 'string', default: '3' },
    size: { type: 'string', default: '224' },
    interval: { type: 'string', default: '160' },
  },
});
const repeats = Number(values.repeats);
const size = Number(values.size);
const options: PipelineOptions = { width: size, height: size, transport: 'tcp', latencyMs: 200, decoder: 'software', realtime: false, sampleIntervalMs: Number(values.interval) };

const quadrant = (name: string, x: number, y: number, masks: FrameStream['masks'] = []): FrameStream => ({ region: name, rect: { x, y, width: 0.5, height: 0.5 }, fit: 'letterbox', masks });
const mask = { x: 0.1, y: 0.1, width: 0.2, height: 0.2 };
const layouts: Record<string, FrameStream[]> = {
  'whole camera': [{ region: null, fit: 'center', masks: [] }],
  '2 regions': [quadrant('a', 0, 0), quadrant('b', 0.5, 0.5)],
  '4 regions': [quadrant('a', 0, 0), quadrant('b', 0.5, 0), quadrant('c', 0, 0.5), quadrant('d', 0.5, 0.5)],
  '2 regions, 1 mask each': [quadrant('a', 0, 0, [mask]), quadrant('b', 0.5, 0.5, [mask])],
};

/** CPU seconds (user + sys) of one gst-launch-1.0 run of the layout's pipeline. */
function cpuSeconds(streams: FrameStream[]): number {
  return gstLaunchCpuSeconds(buildPipelineDescription(parseSourceUrl(values.file), { ...options, streams }, () => false));
}

const results = new Map<string, number[]>(Object.keys(layouts).map((k) => [k, []]));
for (let i = 0; i < repeats; i++) for (const [name, streams] of Object.entries(layouts)) results.get(name)!.push(cpuSeconds(streams));
console.log(`source pipeline CPU, ${values.file} decoded offline, 1 frame per ${values.interval} ms, ${size}x${size} per stream, ${repeats} repeats interleaved:`);
const baseline = results.get('whole camera')!;
for (const [name, cpu] of results) if (name !== 'whole camera') report(name, 'CPU s', cpu, 'whole camera', baseline);
