import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoDecoder, buildPipelineDescription, decoderElements, hardwareDecoderRanks, intervalFramerate, quoteValue, RANKED_HARDWARE_DECODERS, type PipelineOptions } from '../src/source/pipeline-description.js';
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

test('the sampling interval drops frames by timestamp before scaling and conversion', () => {
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, sampleIntervalMs: 160 }, none);
  assert.match(d, /decodebin [^!]*! videorate drop-only=true ! video\/x-raw,framerate=25\/4 ! aspectratiocrop/);
  // Offline files drop the same way (no frame invented), into an appsink that keeps every frame.
  assert.match(buildPipelineDescription(parseSourceUrl('/m/a.mp4'), { ...o, sampleIntervalMs: 160, realtime: false }, none), /videorate drop-only=true ! video\/x-raw,framerate=25\/4 ! .* drop=false sync=false/);
  // A lower fps cap wins over the sampling rate; a higher one changes nothing.
  assert.match(buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, sampleIntervalMs: 160, maxFps: 5 }, none), /videorate drop-only=true ! video\/x-raw,framerate=5\/1 ! /);
  assert.match(buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, sampleIntervalMs: 160, maxFps: 10 }, none), /framerate=25\/4 ! /);
  assert.deepEqual(intervalFramerate(125), { num: 8, den: 1 });
  assert.deepEqual(intervalFramerate(33.333), { num: 1_000_000, den: 33_333 });
});

test('decoder: auto picks hardware by element presence: Jetson, NVDEC, VA-API, V4L2 (Raspberry Pi), else software', () => {
  const rtsp = parseSourceUrl('rtsp://cam/s');
  const present = (...names: string[]) => (e: string) => names.includes(e);
  assert.equal(autoDecoder(rtsp, jetson), 'nvv4l2decoder');
  assert.equal(autoDecoder(rtsp, present('nvh264dec', 'vah264dec')), 'nvh264dec');
  assert.equal(autoDecoder(rtsp, present('vah264dec', 'vaapih264dec')), 'vah264dec');
  assert.equal(autoDecoder(rtsp, present('vaapih264dec', 'v4l2h264dec')), 'vaapih264dec');
  assert.equal(autoDecoder(parseSourceUrl('/m/a.mp4'), present('v4l2h264dec')), 'v4l2h264dec');
  assert.equal(autoDecoder(rtsp, none), undefined);
  assert.equal(autoDecoder(parseSourceUrl('/dev/video0'), present('vah264dec')), undefined, 'V4L2 cameras send raw or MJPEG');
  // Codec-specific decoders are reached through decodebin by rank (any codec the camera sends).
  assert.match(buildPipelineDescription(rtsp, o, present('vah264dec')), /media=video ! decodebin caps/);
  const ranks = hardwareDecoderRanks().split(',').map((r) => r.split(':'));
  assert.deepEqual(ranks.map(([e]) => e), [...RANKED_HARDWARE_DECODERS]);
  assert.ok(ranks.every(([, r], i) => Number(r) > 256 && (i === 0 || Number(r) < Number(ranks[i - 1]![1]))), 'above PRIMARY, in preference order');
  assert.equal(hardwareDecoderRanks('avdec_h264:1').split(',').at(-1), 'avdec_h264:1', "the user's own ranks are kept, last (they win)");
});
