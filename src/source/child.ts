// Entry point of a source child process: one camera's GStreamer pipeline. Frames and messages go
// to the parent as records (frame-record.ts) on fd 3; stdin brings the request, then `stop`.
// A child serves one connection: the parent starts a new one to reconnect, so nothing
// gstreamer-superficial leaks or pins outlives a connection.
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { AppSink, BusMessage, Pipeline as PipelineType } from 'gstreamer-superficial';
import { SNAPSHOTS_OFF_COMMAND, SNAPSHOTS_ON_COMMAND, STOP_COMMAND, type ChildMessage, type ChildRequest } from './child-protocol.js';
import { encodeRecordHeader, RecordKind } from './frame-record.js';
import { appsinkName, buildPipelineDescription, decoderElements, hardwareDecoderRanks, isOffline, OFFLINE_QUEUE_BUFFERS, WHOLE_CAMERA } from './pipeline-description.js';
import { scrubSecrets } from './secrets.js';
import { SNAPSHOT_APPSINK, SNAPSHOT_VALVE } from './snapshot-branch.js';
import { parseSourceUrl } from '../source-url.js';

// Before GStreamer starts (loading the addon starts it): decodebin then prefers hardware decoders.
process.env.GST_PLUGIN_FEATURE_RANK = hardwareDecoderRanks(process.env.GST_PLUGIN_FEATURE_RANK);
// A native addon: ESM cannot import it by name.
const { Pipeline } = createRequire(import.meta.url)('gstreamer-superficial') as typeof import('gstreamer-superficial');

const GST_SEEK_FLAG_FLUSH = 1;
/**
 * The binding polls the bus only while the pipeline is out of the NULL state, so an element that
 * fails to leave NULL (v4l2src on a missing device) posts an error nobody reads. A pipeline that
 * has not said it changed state this long after play() is read out message by message instead.
 */
const LEFT_NULL_WITHIN_MS = 2000;
/** Bus messages read looking for that error before giving up on finding it. */
const STUCK_BUS_MESSAGES = 100;

/** Milliseconds per frame from caps' framerate ("25/4"), or undefined for a variable rate (0/1). */
function frameDurationMs(caps: Record<string, unknown>): number | undefined {
  const [num, den] = String(caps.framerate ?? '').split('/').map(Number);
  return num && den ? (1000 * den) / num : undefined;
}

const out = new Socket({ fd: 3, readable: false, writable: true });
// Offline, every stream waiting for the pipe listens for its drain.
out.setMaxListeners(0);
let request: ChildRequest | undefined;
let pipeline: PipelineType | undefined;
/** The snapshot branch's valve (a GObject whose properties the binding sets live). */
let valve: { drop: boolean } | undefined;
let stopping = false;

function send(message: ChildMessage): void {
  const payload = Buffer.from(JSON.stringify(message));
  out.write(encodeRecordHeader({ kind: RecordKind.message, stream: 0, seq: 0, capturedAt: Date.now(), width: 0, height: 0, length: payload.length }));
  out.write(payload);
}

function scrub(text: string): string {
  return request ? scrubSecrets(text, request.url) : text;
}

function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  // Stopping the pipeline releases the threads blocked in pull and pollBus, which would
  // otherwise hold the process at exit. The parent kills a child that still does not exit.
  pipeline?.stop();
  out.end(() => process.exit(code));
}

const installedCache = new Map<string, boolean>();
/** Asks GStreamer's registry through the binding: an unknown element fails to parse. */
function installed(element: string): boolean {
  let known = installedCache.get(element);
  if (known === undefined) {
    try {
      new Pipeline(`${element} ! fakesink`);
      known = true;
    } catch {
      known = false;
    }
    installedCache.set(element, known);
  }
  return known;
}

let pipelineStateSeen = false;

/**
 * The bus says end of stream once every appsink has received it, while the last frame(s) may still
 * wait in an appsink for a pull: the child ends only when every frame stream has pulled to its end
 * too, so no frame of a file is lost (offline, the last action of a file would be cut). A pull held
 * up by the parent's pipe gets this long before the child ends anyway.
 */
const END_DRAIN_MS = 10_000;
const endOfStream = { bus: false, streams: 0, drained: new Set<number>(), timer: undefined as NodeJS.Timeout | undefined };

function finishAtEnd(): void {
  if (stopping || !endOfStream.bus) return;
  if (endOfStream.drained.size < endOfStream.streams) {
    endOfStream.timer ??= setTimeout(() => {
      send({ type: 'eos' });
      shutdown(0);
    }, END_DRAIN_MS);
    return;
  }
  clearTimeout(endOfStream.timer);
  send({ type: 'eos' });
  shutdown(0);
}

function onBus(msg: BusMessage): void {
  // The pipeline's own state changes (its name, pipelineN, is the binding's default).
  if (msg.type === 'state-changed' && String(msg._src_element_name ?? '').startsWith('pipeline')) pipelineStateSeen = true;
  if (stopping || !request) return;
  if (msg.type === 'eos') {
    if (request.loop) {
      pipeline?.seek(0, GST_SEEK_FLAG_FLUSH);
      return;
    }
    endOfStream.bus = true;
    finishAtEnd();
  } else if (msg.type === 'error') {
    const element = msg._src_element_name;
    send({ type: 'error', message: scrub(String(msg.message ?? 'unknown GStreamer error')), ...(element ? { element } : {}), fatal: false });
    shutdown(1);
  }
}

/** One message per pollBus call (the binding stops polling after one while in NULL), until the error. */
function readStuckBus(p: PipelineType, left: number): void {
  if (stopping) return;
  if (left === 0) {
    send({ type: 'error', message: 'the pipeline did not start, and GStreamer gave no reason', fatal: false });
    shutdown(1);
    return;
  }
  p.pollBus((msg) => {
    onBus(msg);
    if (!stopping && !pipelineStateSeen) readStuckBus(p, left - 1);
  });
}

function start(req: ChildRequest): void {
  request = req;
  const spec = parseSourceUrl(req.url);
  const missing = decoderElements(spec, req.decoder).filter((e) => !installed(e));
  if (missing.length > 0) {
    send({ type: 'error', message: `decoder "${req.decoder}" needs GStreamer element(s) not installed: ${missing.join(', ')}`, fatal: true });
    shutdown(1);
    return;
  }
  const description = buildPipelineDescription(spec, req, installed);
  try {
    pipeline = new Pipeline(description);
  } catch (e) {
    send({ type: 'error', message: `cannot build the pipeline: ${scrub((e as Error).message)}`, fatal: true });
    shutdown(1);
    return;
  }
  const streams = req.streams ?? [WHOLE_CAMERA];
  const sinks = streams.map((_, i) => pipeline!.findChild(appsinkName(i)) as AppSink);
  send({ type: 'started', pipeline: scrub(description) });
  pipeline.pollBus(onBus);
  pipeline.play();
  setTimeout(() => {
    if (!pipelineStateSeen && !stopping) readStuckBus(pipeline!, STUCK_BUS_MESSAGES);
  }, LEFT_NULL_WITHIN_MS).unref();
  // Offline, frames come as fast as they decode, so arrival would squeeze a clip's span: their
  // capture time is media time, one caps frame duration apart (the rate limiter's output rate,
  // or the file's own), counted from the first frame's arrival. The binding gives no buffer
  // timestamps; the pipeline's position (which runs up to a frame ahead while the appsink refills)
  // only moves time on where frames come sparser than the caps say. Offline no stream drops a
  // frame, so the k-th frame of every stream is the same source frame: the first stream to reach
  // it times it, the others take that time (the position runs ahead by the queues' depth).
  const clock = isOffline(spec, req) ? mediaClock(streams.length) : undefined;
  endOfStream.streams = sinks.length;
  sinks.forEach((sink, stream) => pullStream(sink, stream, req, clock));
  // Absent where the description has no snapshot branch (offline decoding).
  const jpegs = pipeline.findChild(SNAPSHOT_APPSINK);
  if (jpegs) pullSnapshots(jpegs, req);
}

/** Media time of the k-th frame (k counted per stream), the same for every stream. */
type MediaClock = (k: number, caps: Record<string, unknown>) => number;

function mediaClock(streams: number): MediaClock {
  // How far (in frames) the position may run ahead of the frame being timed: the appsink
  // refilling (up to 2, and one more was seen on a loaded box: a 30 fps file then read as 29),
  // and with a tee, the queues of the other branches. A gap shorter than this is not seen.
  const ahead = 3 + (streams > 1 ? OFFLINE_QUEUE_BUFFERS + 1 : 0);
  let origin: number | undefined;
  let lastMediaMs: number | undefined;
  /** Frames timed that some stream has not reached yet: their time, and how many streams still will. */
  const pending = new Map<number, { at: number; left: number }>();
  return (k, caps) => {
    const known = pending.get(k);
    if (known) {
      if (--known.left === 0) pending.delete(k);
      return known.at;
    }
    const step = frameDurationMs(caps);
    const position = Math.max(0, pipeline!.queryPosition() * 1000);
    let ms: number;
    if (lastMediaMs === undefined) ms = 0;
    else if (step === undefined) ms = Math.max(position, lastMediaMs + 1);
    else ms = Math.max(lastMediaMs + step, position - ahead * step);
    lastMediaMs = ms;
    origin ??= Date.now();
    const at = origin + ms;
    if (streams > 1) pending.set(k, { at, left: streams - 1 });
    return at;
  };
}

/** Pulls one stream's appsink for as long as the child runs, each frame a record tagged with the stream. */
function pullStream(sink: AppSink, stream: number, req: ChildRequest, clock: MediaClock | undefined): void {
  let seq = 0;
  const pull = (): void => {
    if (!stopping) sink.pull(onSample);
  };
  const onSample = (buf: Buffer | null, caps: Record<string, unknown>): void => {
    if (stopping) return;
    if (!buf) {
      // EOS or a flushing seek: a looping file pulls again once the seek has landed; otherwise
      // this stream is drained, and the child ends once the bus has said end of stream too.
      if (req.loop) setTimeout(pull, 20);
      else {
        endOfStream.drained.add(stream);
        finishAtEnd();
      }
      return;
    }
    const frameSeq = seq++;
    const capturedAt = clock ? clock(frameSeq, caps) : Date.now();
    // Realtime: latest frame wins; a frame is dropped (a gap in seq) while the parent is behind.
    // Offline: wait for the pipe instead, so no frame is lost.
    if (!req.realtime || !out.writableNeedDrain) {
      const width = Number(caps.width);
      const height = Number(caps.height);
      out.write(encodeRecordHeader({ kind: RecordKind.frame, stream, seq: frameSeq, capturedAt, width, height, length: buf.length }));
      out.write(buf);
    }
    if (!req.realtime && out.writableNeedDrain) out.once('drain', pull);
    else pull();
  };
  pull();
}

/** JPEGs from the snapshot branch while its valve is open; the latest wins when the pipe is full. */
function pullSnapshots(sink: AppSink, req: ChildRequest): void {
  valve = pipeline!.findChild(SNAPSHOT_VALVE) as unknown as { drop: boolean };
  const pull = (): void => {
    if (!stopping) sink.pull(onJpeg);
  };
  const onJpeg = (buf: Buffer | null, caps: Record<string, unknown>): void => {
    if (stopping) return;
    // Flushing (a looping file's seek) or the end: as for frames.
    if (!buf) {
      if (req.loop) setTimeout(pull, 20);
      return;
    }
    if (!out.writableNeedDrain) {
      out.write(encodeRecordHeader({ kind: RecordKind.jpeg, stream: 0, seq: 0, capturedAt: Date.now(), width: Number(caps.width), height: Number(caps.height), length: buf.length }));
      out.write(buf);
    }
    pull();
  };
  pull();
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (request === undefined) {
    try {
      start(JSON.parse(line) as ChildRequest);
    } catch (e) {
      send({ type: 'error', message: scrub((e as Error).message), fatal: true });
      shutdown(1);
    }
  } else if (line.trim() === STOP_COMMAND) {
    shutdown(0);
  } else if (valve && (line.trim() === SNAPSHOTS_ON_COMMAND || line.trim() === SNAPSHOTS_OFF_COMMAND)) {
    valve.drop = line.trim() === SNAPSHOTS_OFF_COMMAND;
  }
});
// The parent closed stdin or died: no orphan outlives it.
lines.on('close', () => shutdown(0));
out.on('error', () => shutdown(1));
