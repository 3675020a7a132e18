// Benchmark: what the snapshot branch costs in a camera's pipeline. A live 1280x720 test source at
// 30 fps runs for a fixed number of frames through the camera's description (the model's frames
// at 1 per --interval ms; appsinks swapped for fakesinks) without the branch (the baseline), with
// it shut (its valve dropping: what every camera with the console enabled carries), and with it
// open (encoding --fps JPEGs a second, --width wide). Figures: the gst-launch-1.0 process's CPU
// seconds (user + sys), min / median / max over repeats, interleaved, and ratios to the baseline.
//   node --import tsx bench/snapshot-branch.ts [--repeats 5] [--seconds 5] [--width 640] [--fps 2] [--interval 125]
import { parseArgs } from 'node:util';
import { buildPipelineDescription, type PipelineOptions } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';
import { gstLaunchCpuSeconds } from './gst-launch-cpu.js';
import { report } from './stats.js';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    width: { type: 'string', default: '640' },
    fps: { type: 'string', default: '2' },
    interval: { type: 'string', default: '125' },
  },
});
const repeats = Number(values.repeats);
const frames = Number(values.seconds) * 30;
const base: PipelineOptions = { width: 224, height: 224, transport: 'tcp', latencyMs: 200, decoder: 'software', realtime: true, sampleIntervalMs: Number(values.interval) };
const branch = (encoding: boolean) => ({ width: Number(values.width), quality: 80, fps: Number(values.fps), encoding });
const layouts: Record<string, PipelineOptions> = {
  'no snapshot branch': base,
  'branch, valve shut': { ...base, snapshots: branch(false) },
  'branch, encoding': { ...base, snapshots: branch(true) },
};

/** CPU seconds (user + sys) of one run of the layout's pipeline over `frames` live frames. */
function cpuSeconds(o: PipelineOptions): number {
  return gstLaunchCpuSeconds(
    buildPipelineDescription(parseSourceUrl('test://smpte?fps=30'), o, () => false)
      .replace('videotestsrc is-live=true', `videotestsrc is-live=true num-buffers=${frames}`)
      .replace('width=640,height=480', 'width=1280,height=720'),
  );
}

const results = new Map<string, number[]>(Object.keys(layouts).map((k) => [k, []]));
for (let i = 0; i < repeats; i++) for (const [name, o] of Object.entries(layouts)) results.get(name)!.push(cpuSeconds(o));
console.log(`camera pipeline CPU, live 1280x720 at 30 fps for ${values.seconds} s, model frames 1 per ${values.interval} ms, JPEGs ${values.width} wide at ${values.fps}/s, ${repeats} repeats interleaved:`);
const baseline = results.get('no snapshot branch')!;
for (const [name, cpu] of results) if (name !== 'no snapshot branch') report(name, 'CPU s', cpu, 'no snapshot branch', baseline);
