import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipelineDescription, decoderElements, quoteValue, type PipelineOptions } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';

const o: PipelineOptions = { width: 224, height: 160, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: true };
const none = () => false;
const jetson = (e: string) => e === 'nvv4l2decoder' || e === 'nvvidconv';
const TAIL =
  'aspectratiocrop aspect-ratio=7/5 ! videoscale add-borders=false ! videoconvert ! ' +
  'video/x-raw,format=RGB,width=224,height=160,pixel-aspect-ratio=1/1 ! appsink name=frames max-buffers=1';
const DECODEBIN = 'decodebin caps="video/x-raw(ANY)" expose-all-streams=false';

test('RTSP: transport, latency, video stream only, latest frame wins', () => {
  const spec = parseSourceUrl('rtsp://u:p@cam/s');
  assert.equal(
    buildPipelineDescription(spec, o, none),
    `rtspsrc location="rtsp://u:p@cam/s" latency=200 protocols=tcp ! application/x-rtp,media=video ! ${DECODEBIN} ! ${TAIL} drop=true sync=true enable-last-sample=false`,
  );
  assert.match(buildPipelineDescription(spec, { ...o, transport: 'udp', latencyMs: 50 }, none), /latency=50 protocols=udp /);
  assert.doesNotMatch(buildPipelineDescription(spec, { ...o, transport: 'auto' }, none), /protocols=/);
});

test('files are paced by the clock in realtime, and keep every frame otherwise', () => {
  const spec = parseSourceUrl('/m/a "b".mp4');
  assert.equal(buildPipelineDescription(spec, o, none), `filesrc location="/m/a \\"b\\".mp4" ! ${DECODEBIN} ! ${TAIL} drop=true sync=true enable-last-sample=false`);
  assert.match(buildPipelineDescription(spec, { ...o, realtime: false }, none), /drop=false sync=false/);
});

test('V4L2 and test patterns', () => {
  assert.equal(
    buildPipelineDescription(parseSourceUrl('/dev/video1'), o, jetson),
    `v4l2src device="/dev/video1" ! ${DECODEBIN} ! ${TAIL} drop=true sync=false enable-last-sample=false`,
  );
  assert.equal(
    buildPipelineDescription(parseSourceUrl('test://ball?fps=10'), { ...o, decoder: 'software' }, none),
    `videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=10/1 ! ${TAIL} drop=true sync=false enable-last-sample=false`,
  );
});

test('decoder: auto prefers an installed hardware decoder; software and explicit elements', () => {
  const spec = parseSourceUrl('rtsp://cam/s');
  assert.match(buildPipelineDescription(spec, o, jetson), /media=video ! parsebin ! nvv4l2decoder ! nvvidconv ! aspectratiocrop/);
  assert.match(buildPipelineDescription(spec, o, (e) => e === 'nvv4l2decoder'), /media=video ! decodebin caps/, 'no nvvidconv, no nvv4l2decoder');
  assert.match(buildPipelineDescription(spec, { ...o, decoder: 'software' }, jetson), /expose-all-streams=false force-sw-decoders=true ! /);
  assert.match(buildPipelineDescription(spec, { ...o, decoder: 'avdec_h264' }, jetson), /media=video ! parsebin ! avdec_h264 ! aspectratiocrop/);
  assert.deepEqual(decoderElements(spec, 'nvv4l2decoder'), ['nvv4l2decoder', 'nvvidconv']);
  assert.deepEqual(decoderElements(spec, 'avdec_h264'), ['avdec_h264']);
  assert.deepEqual(decoderElements(spec, 'auto'), []);
  assert.deepEqual(decoderElements(parseSourceUrl('test://ball'), 'avdec_h264'), []);
});

test('an fps cap drops frames before scaling', () => {
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, maxFps: 5 }, none);
  assert.match(d, /decodebin [^!]*! videorate drop-only=true max-rate=5 ! aspectratiocrop/);
});

test('the crop keeps the target aspect ratio in lowest terms', () => {
  const d = buildPipelineDescription(parseSourceUrl('test://ball'), { ...o, width: 64, height: 48 }, none);
  assert.match(d, /aspect-ratio=4\/3 /);
  assert.match(d, /width=64,height=48/);
});

test('quoted values escape quotes and backslashes', () => {
  assert.equal(quoteValue('a\\b"c'), '"a\\\\b\\"c"');
});
