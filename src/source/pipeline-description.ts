// gst-launch descriptions per source kind: depay/demux, decode, rate-limit, centre-crop + scale
// to the model's size, RGB, into an appsink that keeps only the latest frame.
import type { SourceSpec } from '../source-url.js';

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
   * Files only: true plays at the file's own rate like a camera, keeping only the latest frame;
   * false decodes as fast as the reader takes frames and drops none (offline processing).
   */
  realtime: boolean;
}

/** Hardware decoders tried by `auto`, each with the element that copies its output to system memory. */
export const HARDWARE_DECODERS: ReadonlyArray<{ element: string; download?: string }> = [
  { element: 'nvv4l2decoder', download: 'nvvidconv' },
];

/** The appsink's name in every description. */
export const APPSINK_NAME = 'frames';

/** A gst-launch property value in double quotes (paths and URLs may hold spaces, quotes, '!'). */
export function quoteValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
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
    const hw = spec.kind === 'v4l2' ? undefined : HARDWARE_DECODERS.find((d) => installed(d.element) && (!d.download || installed(d.download)));
    if (!hw) return decodebin;
    chosen = hw.element;
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
  if (o.maxFps !== undefined) parts.push(`videorate drop-only=true max-rate=${o.maxFps}`);
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
  const keepAll = spec.kind === 'file' && !o.realtime;
  parts.push(
    `appsink name=${APPSINK_NAME} max-buffers=1 drop=${keepAll ? 'false' : 'true'} sync=${paced ? 'true' : 'false'} enable-last-sample=false`,
  );
  return parts.join(' ! ');
}
