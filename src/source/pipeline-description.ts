// gst-launch descriptions per source kind: depay/demux, decode, rate-limit, centre-crop + scale
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
  /** The JPEG branch (snapshot-branch.ts); none when absent. */
  snapshots?: SnapshotBranchOptions;
}

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

/** The appsink's name in every description. */
export const APPSINK_NAME = 'frames';
/** The tee carrying the whole decoded frame, where the snapshot branch starts. */
export const WHOLE_FRAME_TEE = 'whole';

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

/**
 * The decoding segment. `installed` answers whether an element exists (the child asks GStreamer's
 * registry). V4L2 devices mostly send raw or MJPEG frames, so `auto` leaves them to decodebin.
 */
export function decodeSegment(spec: SourceSpec, decoder: DecoderChoice, installed: (element: string) => boolean): string {
  const decodebin = 'decodebin caps="video/x-raw(ANY)" expose-all-streams=false';
  if (decoder === 'software') return `${decodebin} force-sw-decoders=true`;
  let chosen = decoder;
  if (decoder === 'auto') {
    const hw = autoDecoder(spec, installed);
    // Not a multi-codec element: decodebin, which picks the ranked hardware decoders where present.
    if (!hw || !HARDWARE_DECODERS.some((d) => d.element === hw)) return decodebin;
    chosen = hw;
  }
  const download = HARDWARE_DECODERS.find((d) => d.element === chosen)?.download;
  return ['parsebin', chosen, ...(download ? [download] : [])].join(' ! ');
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

/** The whole gst-launch description for one camera. */
export function buildPipelineDescription(spec: SourceSpec, o: PipelineOptions, installed: (element: string) => boolean): string {
  const d = gcd(o.width, o.height);
  const parts = [sourceSegment(spec, o)];
  if (spec.kind !== 'test') parts.push(decodeSegment(spec, o.decoder, installed));
  const rate = rateSegment(o);
  if (rate) parts.push(rate);
  // Snapshots for paced sources only: their JPEGs' arrival is their capture time on the frames' clock.
  const snapshots = isOffline(spec, o) ? undefined : o.snapshots;
  // Each branch of the tee in its own thread (two synced appsinks in one would wait on each other).
  if (snapshots) parts.push(`tee name=${WHOLE_FRAME_TEE}`, 'queue max-size-buffers=2 max-size-bytes=0 max-size-time=0');
  parts.push(
    // Crop to the target's display aspect ratio (pixel aspect ratio included), then scale: the
    // shorter side fills the target and the longer is centre-cropped. Scaling before the RGB
    // conversion converts the small image only.
    `aspectratiocrop aspect-ratio=${o.width / d}/${o.height / d}`,
    'videoscale add-borders=false',
    'videoconvert',
    `video/x-raw,format=RGB,width=${o.width},height=${o.height},pixel-aspect-ratio=1/1`,
  );
  // A file is paced by the clock like a camera (sync), unless it is decoded for offline use,
  // where the appsink blocks instead of dropping so that every frame arrives. RTSP frames are
  // synced too: released at their timestamps rather than when decoding happens to finish, so
  // arrival (the only capture time this binding gives) keeps the camera's timing under CPU load.
  const paced = (spec.kind === 'file' && o.realtime) || spec.kind === 'rtsp';
  const keepAll = isOffline(spec, o);
  parts.push(
    `appsink name=${APPSINK_NAME} max-buffers=1 drop=${keepAll ? 'false' : 'true'} sync=${paced ? 'true' : 'false'} enable-last-sample=false`,
  );
  const main = parts.join(' ! ');
  return snapshots ? `${main}  ${snapshotBranch(WHOLE_FRAME_TEE, snapshots, paced)}` : main;
}
