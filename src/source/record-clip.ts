// Records a labelled clip from a camera: decode, re-time to a fixed rate, H.264 into an mp4 (the
// format the training side reads). In-process through gstreamer-superficial, so the camera URL
// (it may carry a password) never appears on a child's command line.
import { createRequire } from 'node:module';
import type { BusMessage } from 'gstreamer-superficial';
import { MstaError } from '../errors.js';
import { decodeSegment, quoteValue, sourceSegment, type DecoderChoice, type Transport } from './pipeline-description.js';
import { scrubSecrets } from './secrets.js';
import { parseSourceUrl } from '../source-url.js';

const { Pipeline } = createRequire(import.meta.url)('gstreamer-superficial') as typeof import('gstreamer-superficial');

export interface RecordOptions {
  url: string;
  out: string;
  seconds: number;
  fps: number;
  transport: Transport;
  latencyMs: number;
  decoder: DecoderChoice;
  /** Gives up when the clip is not complete by then (a camera that never sends). */
  timeoutMs: number;
}

function installed(element: string): boolean {
  try {
    new Pipeline(`${element} ! fakesink`);
    return true;
  } catch {
    return false;
  }
}

/** The gst-launch description: exactly seconds * fps frames, then EOS, which finalises the mp4. */
export function recordDescription(o: Omit<RecordOptions, 'timeoutMs'>): string {
  const spec = parseSourceUrl(o.url);
  const parts = [sourceSegment(spec, o)];
  if (spec.kind !== 'test') parts.push(decodeSegment(spec, o.decoder, installed));
  parts.push(
    'videoconvert',
    'videorate',
    // Even sizes: yuv420p needs them, and players expect them.
    `video/x-raw,format=I420,framerate=${o.fps}/1`,
    `identity eos-after=${Math.round(o.seconds * o.fps)}`,
    `x264enc tune=zerolatency speed-preset=veryfast key-int-max=${o.fps}`,
    'video/x-h264,profile=high',
    'h264parse',
    'mp4mux',
    `filesink location=${quoteValue(o.out)}`,
  );
  return parts.join(' ! ');
}

/** Resolves once the mp4 is complete; rejects with SOURCE_FAILED (text scrubbed of secrets). */
export function recordClip(o: RecordOptions): Promise<void> {
  const fail = (message: string) => new MstaError('SOURCE_FAILED', scrubSecrets(message, o.url), { where: o.out });
  let pipeline: InstanceType<typeof Pipeline>;
  try {
    pipeline = new Pipeline(recordDescription(o));
  } catch (e) {
    return Promise.reject(fail(`cannot build the recording pipeline: ${(e as Error).message}`));
  }
  return new Promise<void>((resolveClip, reject) => {
    let done = false;
    const finish = (error?: MstaError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Stopping releases the thread blocked in pollBus, which would hold the process at exit.
      pipeline.stop();
      if (error) reject(error);
      else resolveClip();
    };
    const timer = setTimeout(() => finish(fail(`no complete ${o.seconds} s clip after ${o.timeoutMs / 1000} s`)), o.timeoutMs);
    pipeline.pollBus((msg: BusMessage) => {
      if (msg.type === 'eos') finish();
      else if (msg.type === 'error') finish(fail(`GStreamer: ${String(msg.message ?? 'unknown error')}`));
    });
    pipeline.play();
  });
}
