// gst-launch descriptions per source kind: depay/demux, decode, rate-limit once per camera, then
// one branch per frame stream (the whole camera, or each region of interest): masks, crop, scale
// to the model's size, RGB, into an appsink that keeps only the latest frame.
import type { SourceSpec } from '../source-url.js';
import { snapshotBranch, type SnapshotBranchOptions } from './snapshot-branch.js';

export type Transport = 'tcp' | 'udp' | 'auto';

/** `auto`: a hardware decoder where one is installed, else decodebin's choice; `software`; or an element name. */
export type DecoderChoice = string;

export interface PipelineOptions {
  width: number;
  height: number;
  /** RTSP lower transport; `auto` lets rtspsrc try UDP then TCP. */
  transport: Transport;
  /** RTSP jitter-buffer latency, ms. */
  latencyMs: number;
  decoder: DecoderChoice;
  /** Drop frames above this rate (none when undefined). */
  maxFps?: number;
  /**
   * The clip sampler's interval: the pipeline keeps about one frame per interval of media time
   * before scaling and conversion, so frames nobody samples are never converted or sent.
   */
  sampleIntervalMs?: number;
  /**
   * Files only: true plays at the file's own rate like a camera, keeping only the latest frame;
   * false decodes as fast as the reader takes frames and drops none (offline processing).
   */
  realtime: boolean;
  /** The frame streams, one appsink each (frames_0, frames_1, ...); default: the whole camera, centre-cropped. */
  streams?: FrameStream[];
  /** The JPEG branch off the whole decoded frame (snapshot-branch.ts); none when absent, or offline. */
  snapshots?: SnapshotBranchOptions;
}

/** A rectangle in fractions of the frame (0..1), inside it. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * How a stream's rectangle becomes the model's size: `center` cuts the sides (or top and bottom)
 * to the model's aspect ratio; `letterbox` scales the whole of it and adds black bars.
 */
export type Fit = 'center' | 'letterbox';

/** One stream of frames out of the camera's one decode. */
export interface FrameStream {
  /** The region of interest it shows, null for the whole camera. */
  region: string | null;
  /** What of the frame it shows; absent = all of it. */
  rect?: Rect;
  fit: Fit;
  /** Painted black before the crop (fractions of the frame). */
  masks: Rect[];
}

/** The stream a camera has without regions: the whole frame, centre-cropped (what it always was). */
export const WHOLE_CAMERA: FrameStream = { region: null, fit: 'center', masks: [] };

/** Hardware decoders `auto` puts in the pipeline itself, each with the element that copies its output to system memory. */
export const HARDWARE_DECODERS: ReadonlyArray<{ element: string; download?: string }> = [
  // Jetson: one element for every codec; its output needs nvvidconv to reach system memory.
  { element: 'nvv4l2decoder', download: 'nvvidconv' },
];

/**
 * Codec-specific hardware decoders, most preferred first: desktop NVDEC, VA-API (the va plugin,
 * then gstreamer-vaapi), V4L2 stateful (Raspberry Pi). Under `auto`, decodebin picks one by rank
 * for whatever codec the camera sends, so the source child raises their ranks above the software
 * decoders' (GST_PLUGIN_FEATURE_RANK, read when GStreamer starts); absent ones are ignored.
 */
export const RANKED_HARDWARE_DECODERS: readonly string[] = [
  'nvh264dec', 'nvh265dec', 'vah264dec', 'vah265dec', 'vaapih264dec', 'vaapih265dec', 'v4l2h264dec', 'v4l2h265dec',
];

/** GST_PLUGIN_FEATURE_RANK for the source child: ranks above PRIMARY (256), in preference order, after any the user set. */
export function hardwareDecoderRanks(existing?: string): string {
  const ours = RANKED_HARDWARE_DECODERS.map((e, i) => `${e}:${512 - i}`).join(',');
  return existing ? `${ours},${existing}` : ours;
}

/** The hardware decoder `auto` ends up with for an H.264 camera, by element presence (undefined: software). */
export function autoDecoder(spec: SourceSpec, installed: (element: string) => boolean): string | undefined {
  if (spec.kind === 'test' || spec.kind === 'v4l2') return undefined;
  const direct = HARDWARE_DECODERS.find((d) => installed(d.element) && (!d.download || installed(d.download)));
  return direct?.element ?? RANKED_HARDWARE_DECODERS.find((e) => e.includes('264') && installed(e));
}

/** The appsink of frame stream `index`: the record header carries the index. */
export function appsinkName(index: number): string {
  return `frames_${index}`;
}

/** A gst-launch property value in double quotes (paths and URLs may hold spaces, quotes, '!'). */
export function quoteValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A file decoded for offline use: every (sampled) frame, as fast as it is taken, never paced. */
export function isOffline(spec: SourceSpec, o: Pick<PipelineOptions, 'realtime'>): boolean {
  return spec.kind === 'file' && !o.realtime;
}

/** The rate an interval asks for, as a GStreamer fraction in lowest terms (160 ms -> 25/4). */
export function intervalFramerate(intervalMs: number): { num: number; den: number } {
  // Microsecond resolution: exact for whole and fractional millisecond intervals alike.
  const us = Math.max(1, Math.round(intervalMs * 1000));
  const d = gcd(1_000_000, us);
  return { num: 1_000_000 / d, den: us / d };
}

/**
 * Drops frames by their timestamps before any scaling or conversion. Drop-only: real frames keep
 * their own timestamps (each kept frame is the one nearest the interval grid, so its arrival at a
 * synced appsink is its true capture time) and none is invented (a full videorate would duplicate
 * frames up to a container's stated end, seconds past the last frame of some AVI files).
 */
function rateSegment(o: PipelineOptions): string | undefined {
  const sampled = o.sampleIntervalMs !== undefined ? intervalFramerate(o.sampleIntervalMs) : undefined;
  const rate = sampled && o.maxFps !== undefined && o.maxFps * sampled.den < sampled.num ? { num: o.maxFps, den: 1 } : sampled;
  if (!rate) return o.maxFps !== undefined ? `videorate drop-only=true max-rate=${o.maxFps}` : undefined;
  return `videorate drop-only=true ! video/x-raw,framerate=${rate.num}/${rate.den}`;
}

/** The elements a decoder choice needs, so the child can check they are installed before building. */
export function decoderElements(spec: SourceSpec, decoder: DecoderChoice): string[] {
  if (spec.kind === 'test' || decoder === 'auto' || decoder === 'software') return [];
  const hw = HARDWARE_DECODERS.find((d) => d.element === decoder);
  return hw?.download ? [decoder, hw.download] : [decoder];
}

/** libav's software decoders whose threading a live camera sets (decodebin names its first ones `<element>-0`). */
const LIBAV_DECODERS = ['avdec_h264', 'avdec_h265'];

/**
 * Live, libav decodes with slice threads instead of frame threads. Frame threading keeps a frame
 * context (and its 1080p frames) per thread, one thread per core: 70 MB private memory per 1080p
 * camera in gst-launch-1.0 vs 31 MB with slices (docs/performance.md). A live camera needs
 * real time only (~0.15 core at 1080p30), not the whole host's decode rate; offline decoding keeps
 * frame threads for speed. Set as decodebin's child properties, applied when it adds the decoder
 * (a decoder it re-creates mid-stream, `-1`, keeps libav's default).
 */
const LIBAV_THREADING = 'thread-type=slice';

/**
 * The decoding segment. `installed` answers whether an element exists (the child asks GStreamer's
 * registry). V4L2 devices mostly send raw or MJPEG frames, so `auto` leaves them to decodebin.
 */
export function decodeSegment(spec: SourceSpec, decoder: DecoderChoice, installed: (element: string) => boolean, live = true): string {
  const decodebin = [
    'decodebin caps="video/x-raw(ANY)" expose-all-streams=false',
    ...(decoder === 'software' ? ['force-sw-decoders=true'] : []),
    ...(live ? LIBAV_DECODERS.map((e) => `${e}-0::${LIBAV_THREADING}`) : []),
  ].join(' ');
  if (decoder === 'software') return decodebin;
  let chosen = decoder;
  if (decoder === 'auto') {
    const hw = autoDecoder(spec, installed);
    // Not a multi-codec element: decodebin, which picks the ranked hardware decoders where present.
    if (!hw || !HARDWARE_DECODERS.some((d) => d.element === hw)) return decodebin;
    chosen = hw;
  }
  const download = HARDWARE_DECODERS.find((d) => d.element === chosen)?.download;
  const element = live && LIBAV_DECODERS.includes(chosen) ? `${chosen} ${LIBAV_THREADING}` : chosen;
  return ['parsebin', element, ...(download ? [download] : [])].join(' ! ');
}

/** The source element(s) for a spec: up to encoded (or, for test://, raw) video. */
export function sourceSegment(spec: SourceSpec, o: Pick<PipelineOptions, 'transport' | 'latencyMs'>): string {
  switch (spec.kind) {
    case 'rtsp': {
      const protocols = o.transport === 'auto' ? '' : ` protocols=${o.transport}`;
      // Only the video stream: rtspsrc also exposes audio pads, which would otherwise race to link.
      // No drop-on-latency: dropping late packets (the burst when joining a stream) leaves the
      // decoder without reference slices, and it outputs corrupt grey-green frames. The appsink
      // already keeps only the latest frame.
      return `rtspsrc location=${quoteValue(spec.url)} latency=${o.latencyMs}${protocols} ! application/x-rtp,media=video`;
    }
    case 'file':
      return `filesrc location=${quoteValue(spec.path)}`;
    case 'v4l2':
      return `v4l2src device=${quoteValue(spec.device)}`;
    case 'test':
      return `videotestsrc is-live=true pattern=${spec.pattern} ! video/x-raw,width=640,height=480,framerate=${spec.fps}/1`;
  }
}

/** Everything up to the raw, rate-limited frames every branch shares: source, decode, rate limiter. */
export function pipelineHead(spec: SourceSpec, o: PipelineOptions, installed: (element: string) => boolean): string {
  const parts = [sourceSegment(spec, o)];
  if (spec.kind !== 'test') parts.push(decodeSegment(spec, o.decoder, installed, !isOffline(spec, o)));
  const rate = rateSegment(o);
  if (rate) parts.push(rate);
  return parts.join(' ! ');
}

/**
 * The longest side of the intermediate frame a stream crops from. The cropped rectangle is scaled
 * to about the model's size: a small region would otherwise upscale the whole frame far past any
 * camera's resolution.
 */
export const MAX_INTERMEDIATE_SIDE = 2048;

/** Where the rectangle's edges fall on a frame `size` pixels long (outward, so nothing of it is lost). */
function span(start: number, length: number, size: number): { from: number; to: number } {
  const from = Math.min(size - 1, Math.floor(start * size + 1e-6));
  const to = Math.max(from + 1, Math.min(size, Math.ceil((start + length) * size - 1e-6)));
  return { from, to };
}

/** An inline SVG of black rectangles over a `w` x `h` frame (rsvgoverlay draws it on every frame). */
export function maskSvg(masks: readonly Rect[], w: number, h: number): string {
  const rects = masks.map((m) => {
    const x = span(m.x, m.width, w);
    const y = span(m.y, m.height, h);
    return `<rect x='${x.from}' y='${y.from}' width='${x.to - x.from}' height='${y.to - y.from}' fill='black'/>`;
  });
  return `<svg xmlns='http://www.w3.org/2000/svg' width='${w}' height='${h}' shape-rendering='crispEdges'>${rects.join('')}</svg>`;
}

/**
 * The elements that turn the shared raw frames into one stream's RGB frames at the model's size.
 * The decoded size is known only once caps arrive, while videocrop and the mask overlay work in
 * pixels; so a stream with a rectangle or masks first scales the frame to a fixed intermediate
 * size, where fractions are pixels. That scale squashes (the pixel aspect ratio carries the true
 * shape on, and the letterbox or centre crop after it honours it), and sizes the rectangle to
 * about the model's size: twice that for a centre crop, which cuts the longer side again.
 */
export function streamSegment(stream: FrameStream, o: Pick<PipelineOptions, 'width' | 'height'>): string[] {
  const parts: string[] = [];
  const rect = stream.rect ?? { x: 0, y: 0, width: 1, height: 1 };
  const whole = rect.x === 0 && rect.y === 0 && rect.width === 1 && rect.height === 1;
  if (!whole || stream.masks.length > 0) {
    const target = Math.max(o.width, o.height) * (stream.fit === 'center' ? 2 : 1);
    // Even sizes: 4:2:0 frames have half-size chroma planes.
    const side = (fraction: number) => 2 * Math.ceil(Math.min(MAX_INTERMEDIATE_SIDE, target / fraction) / 2);
    const w = side(rect.width);
    const h = side(rect.height);
    parts.push('videoscale', `video/x-raw,width=${w},height=${h}`);
    // rsvgoverlay draws on packed RGB with alpha (BGRA) only.
    if (stream.masks.length > 0) parts.push('videoconvert', `rsvgoverlay data=${quoteValue(maskSvg(stream.masks, w, h))}`);
    if (!whole) {
      const x = span(rect.x, rect.width, w);
      const y = span(rect.y, rect.height, h);
      parts.push(`videocrop left=${x.from} right=${w - x.to} top=${y.from} bottom=${h - y.to}`);
    }
  }
  const d = gcd(o.width, o.height);
  parts.push(
    ...(stream.fit === 'center'
      ? // Crop to the target's display aspect ratio (pixel aspect ratio included), then scale: the
        // shorter side fills the target and the longer is centre-cropped.
        [`aspectratiocrop aspect-ratio=${o.width / d}/${o.height / d}`, 'videoscale add-borders=false']
      : // The whole rectangle, its display aspect ratio kept, black bars on the shorter side.
        ['videoscale add-borders=true']),
    // Scaling before the RGB conversion converts the small image only.
    'videoconvert',
    `video/x-raw,format=RGB,width=${o.width},height=${o.height},pixel-aspect-ratio=1/1`,
  );
  return parts;
}

/**
 * A branch off the tee: its elements, ending in a sink. Frame streams are branches; other
 * consumers of the same decode (a low-rate snapshot encoder) add their own.
 */
export type Branch = string[];

/** The appsink of a frame branch. */
export function frameSink(index: number, spec: SourceSpec, o: PipelineOptions): string {
  // A file is paced by the clock like a camera (sync), unless it is decoded for offline use,
  // where the appsink blocks instead of dropping so that every frame arrives. RTSP frames are
  // synced too: released at their timestamps rather than when decoding happens to finish, so
  // arrival (the only capture time this binding gives) keeps the camera's timing under CPU load.
  const paced = (spec.kind === 'file' && o.realtime) || spec.kind === 'rtsp';
  const keepAll = isOffline(spec, o);
  return `appsink name=${appsinkName(index)} max-buffers=1 drop=${keepAll ? 'false' : 'true'} sync=${paced ? 'true' : 'false'} enable-last-sample=false`;
}

/** The frame streams' branches, in stream order (appsink frames_<index>). */
export function frameBranches(spec: SourceSpec, o: PipelineOptions): Branch[] {
  return (o.streams ?? [WHOLE_CAMERA]).map((stream, i) => [...streamSegment(stream, o), frameSink(i, spec, o)]);
}

/** Frames each branch's queue holds offline (a branch's appsink holds one more). */
export const OFFLINE_QUEUE_BUFFERS = 4;

/**
 * How frames flow: `offline` every frame, as fast as taken; `paced` a file played at its own rate,
 * its decoding held back by the synced appsinks; `live` a camera, whose frames come at its rate
 * whatever the daemon does.
 */
export type Flow = 'offline' | 'paced' | 'live';

/**
 * The head, then its branches: one is chained straight on; several hang off a tee, each behind its
 * own queue so that one branch's work never holds the others (and, offline, no branch can block
 * the tee while another waits for data: every branch has room). Live, a queue keeps only the
 * newest frame, like the appsinks. A paced file's queues must not leak: nothing but their back
 * pressure holds the decoder to the clock, and leaking queues let it run through the whole file at
 * once, dropping all but the first frames. `queued` branches bring their own queue.
 */
export function assemblePipeline(head: string, branches: readonly Branch[], flow: Flow, queued: readonly Branch[] = []): string {
  if (branches.length === 1 && queued.length === 0) return [head, ...branches[0]!].join(' ! ');
  const offline = flow === 'offline';
  const queue = `queue max-size-buffers=${offline ? OFFLINE_QUEUE_BUFFERS : 1} max-size-bytes=0 max-size-time=0${flow === 'live' ? ' leaky=downstream' : ''}`;
  return [`${head} ! tee name=t`, ...branches.map((b) => ['t.', queue, ...b].join(' ! ')), ...queued.map((b) => ['t.', ...b].join(' ! '))].join(' ');
}

/**
 * The whole gst-launch description for one camera. The snapshot branch brings its own queue
 * (behind its valve, so a shut one costs no thread wake-up), and only for paced sources: its
 * JPEGs' arrival is their capture time on the frames' clock.
 */
export function buildPipelineDescription(spec: SourceSpec, o: PipelineOptions, installed: (element: string) => boolean): string {
  const offline = isOffline(spec, o);
  const paced = (spec.kind === 'file' && o.realtime) || spec.kind === 'rtsp';
  const snapshots = o.snapshots && !offline ? [snapshotBranch(o.snapshots, paced)] : [];
  const flow: Flow = offline ? 'offline' : spec.kind === 'file' ? 'paced' : 'live';
  return assemblePipeline(pipelineHead(spec, o, installed), frameBranches(spec, o), flow, snapshots);
}
