// The live pipeline's decoder threading through real GStreamer: decodebin applies the child
// properties to the libav decoder it adds (docs/performance.md: slice threads hold less memory
// per camera than frame threads). gst-launch-1.0 -v prints every property set on the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { appsinkName, buildPipelineDescription, type PipelineOptions } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';

const demo = resolve('models/demo/actions-demo.mp4');
const o: PipelineOptions = { width: 64, height: 64, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: true, sampleIntervalMs: 160 };

/** What gst-launch-1.0 -v reports for the pipeline's H.264 decoder, the appsink swapped for a fakesink ending after 5 frames. */
function decoderProperties(options: PipelineOptions): string[] {
  const description = buildPipelineDescription(parseSourceUrl(demo), options, () => false).replace(new RegExp(`appsink name=${appsinkName(0)} .*$`), 'identity eos-after=5 ! fakesink sync=false');
  const text = execFileSync('gst-launch-1.0', ['-v', ...description.split(' ')], { encoding: 'utf8', timeout: 30_000 });
  return text.split('\n').filter((line) => /avdec_h264-0: /.test(line)).map((line) => line.replace(/^.*avdec_h264-0: /, ''));
}

test('a live camera decodes H.264 with slice threads; offline decoding keeps libav\'s frame threads', () => {
  assert.ok(decoderProperties(o).includes('thread-type = Slice'), 'live: slice threading set on the decoder decodebin added');
  assert.ok(!decoderProperties({ ...o, realtime: false }).some((p) => p.startsWith('thread-type')), 'offline: the default threading');
});
