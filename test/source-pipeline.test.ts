import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoDecoder, buildPipelineDescription, decoderElements, hardwareDecoderRanks, intervalFramerate, maskSvg, MAX_INTERMEDIATE_SIDE, quoteValue, RANKED_HARDWARE_DECODERS, type PipelineOptions } from '../src/source/pipeline-description.js';
import { parseSourceUrl } from '../src/source-url.js';

const o: PipelineOptions = { width: 224, height: 160, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: true };
const none = () => false;
const jetson = (e: string) => e === 'nvv4l2decoder' || e === 'nvvidconv';
const TAIL =
  'aspectratiocrop aspect-ratio=7/5 ! videoscale add-borders=false ! videoconvert ! ' +
  'video/x-raw,format=RGB,width=224,height=160,pixel-aspect-ratio=1/1 ! appsink name=frames_0 max-buffers=1';
// Live: libav's software decoders use slice threads (less memory per camera than frame threads).
const DECODEBIN = 'decodebin caps="video/x-raw(ANY)" expose-all-streams=false avdec_h264-0::thread-type=slice avdec_h265-0::thread-type=slice';

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
  // Offline decoding keeps libav's frame threads: speed, not memory, is what it is for.
  assert.match(buildPipelineDescription(spec, { ...o, realtime: false }, none), /expose-all-streams=false ! /);
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
  assert.match(buildPipelineDescription(spec, { ...o, decoder: 'software' }, jetson), /expose-all-streams=false force-sw-decoders=true avdec_h264-0::thread-type=slice avdec_h265-0::thread-type=slice ! /);
  assert.match(buildPipelineDescription(spec, { ...o, decoder: 'avdec_h264' }, jetson), /media=video ! parsebin ! avdec_h264 thread-type=slice ! aspectratiocrop/);
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

test('crop full letterboxes the whole frame: borders keep its geometry', () => {
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, streams: [{ region: null, fit: 'letterbox', masks: [] }] }, none);
  assert.match(d, /! videoscale add-borders=true ! videoconvert ! video\/x-raw,format=RGB,width=224,height=160,pixel-aspect-ratio=1\/1 ! appsink name=frames_0 /);
  assert.doesNotMatch(d, /aspectratiocrop|tee/);
});

test('regions: one decode and rate limiter, a tee, then per region a queue, its crop in pixels of a fixed intermediate frame and its own appsink', () => {
  const streams = [
    { region: 'left', rect: { x: 0, y: 0, width: 0.5, height: 1 }, fit: 'letterbox' as const, masks: [] },
    { region: 'corner', rect: { x: 0.75, y: 0.5, width: 0.25, height: 0.5 }, fit: 'letterbox' as const, masks: [] },
  ];
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, sampleIntervalMs: 125, streams }, none);
  assert.equal(d.match(/decodebin /g)?.length, 1, 'one decoder');
  assert.equal(d.match(/videorate /g)?.length, 1, 'one rate limiter, before the tee');
  assert.match(d, /framerate=8\/1 ! tee name=t t\. ! queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream ! videoscale ! /);
  // left half: 224 / 0.5 = 448 wide, 224 high; the crop keeps x in [0, 224).
  assert.match(d, /video\/x-raw,width=448,height=224 ! videocrop left=0 right=224 top=0 bottom=0 ! videoscale add-borders=true ! .* appsink name=frames_0 /);
  // corner: 224 / 0.25 = 896 wide, 448 high; x in [672, 896), y in [224, 448).
  assert.match(d, /t\. ! queue [^!]*! videoscale ! video\/x-raw,width=896,height=448 ! videocrop left=672 right=0 top=224 bottom=0 ! videoscale add-borders=true ! .* appsink name=frames_1 /);
  // Offline, the queues block rather than leak (no frame lost on any branch).
  const offline = buildPipelineDescription(parseSourceUrl('/m/a.mp4'), { ...o, realtime: false, streams }, none);
  assert.equal(offline.match(/queue max-size-buffers=4 max-size-bytes=0 max-size-time=0 !/g)?.length, 2);
  assert.equal(offline.match(/drop=false sync=false/g)?.length, 2);
});

test('a small region never upscales the frame past the intermediate cap', () => {
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, streams: [{ region: 'r', rect: { x: 0.99, y: 0, width: 0.01, height: 1 }, fit: 'letterbox', masks: [] }] }, none);
  assert.match(d, new RegExp(`width=${MAX_INTERMEDIATE_SIDE},height=224 ! videocrop left=2027 right=0 `));
});

test('masks: an inline SVG of black rectangles over the intermediate frame, before the crop; a centre crop keeps twice the model size to cut from', () => {
  const masks = [{ x: 0.5, y: 0.25, width: 0.25, height: 0.5 }];
  const d = buildPipelineDescription(parseSourceUrl('rtsp://cam/s'), { ...o, streams: [{ region: null, fit: 'center', masks }] }, none);
  assert.match(d, /! videoscale ! video\/x-raw,width=448,height=448 ! videoconvert ! rsvgoverlay data=".*" ! aspectratiocrop aspect-ratio=7\/5 ! /);
  assert.doesNotMatch(d, /videocrop/, 'the whole frame: nothing to crop');
  assert.equal(maskSvg(masks, 448, 448), "<svg xmlns='http://www.w3.org/2000/svg' width='448' height='448' shape-rendering='crispEdges'><rect x='224' y='112' width='112' height='224' fill='black'/></svg>");
  // Edges round outward: a mask covers every pixel it touches.
  assert.match(maskSvg([{ x: 0.101, y: 0, width: 0.1, height: 1 }], 100, 10), /x='10' y='0' width='11' height='10'/);
});
