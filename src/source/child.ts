// Entry point of a source child process: one camera's GStreamer pipeline. Frames and messages go
// to the parent as records (frame-record.ts) on fd 3; stdin brings the request, then `stop`.
// A child serves one connection: the parent starts a new one to reconnect, so nothing
// gstreamer-superficial leaks or pins outlives a connection.
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { AppSink, BusMessage, Pipeline as PipelineType } from 'gstreamer-superficial';
import { STOP_COMMAND, type ChildMessage, type ChildRequest } from './child-protocol.js';
import { encodeRecordHeader, RecordKind } from './frame-record.js';
import { APPSINK_NAME, buildPipelineDescription, decoderElements } from './pipeline-description.js';
import { scrubSecrets } from './secrets.js';
import { parseSourceUrl } from '../source-url.js';

// A native addon: ESM cannot import it by name.
const { Pipeline } = createRequire(import.meta.url)('gstreamer-superficial') as typeof import('gstreamer-superficial');

const GST_SEEK_FLAG_FLUSH = 1;

const out = new Socket({ fd: 3, readable: false, writable: true });
let request: ChildRequest | undefined;
let pipeline: PipelineType | undefined;
let stopping = false;
let seq = 0;

function send(message: ChildMessage): void {
  const payload = Buffer.from(JSON.stringify(message));
  out.write(encodeRecordHeader({ kind: RecordKind.message, seq, capturedAt: Date.now(), width: 0, height: 0, length: payload.length }));
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

function onBus(msg: BusMessage): void {
  if (stopping || !request) return;
  if (msg.type === 'eos') {
    if (request.loop) {
      pipeline?.seek(0, GST_SEEK_FLAG_FLUSH);
      return;
    }
    send({ type: 'eos' });
    shutdown(0);
  } else if (msg.type === 'error') {
    const element = msg._src_element_name;
    send({ type: 'error', message: scrub(String(msg.message ?? 'unknown GStreamer error')), ...(element ? { element } : {}), fatal: false });
    shutdown(1);
  }
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
  const sink = pipeline.findChild(APPSINK_NAME) as AppSink;
  send({ type: 'started', pipeline: scrub(description) });
  pipeline.pollBus(onBus);
  pipeline.play();

  const pull = (): void => {
    if (!stopping) sink.pull(onSample);
  };
  const onSample = (buf: Buffer | null, caps: Record<string, unknown>): void => {
    if (stopping) return;
    if (!buf) {
      // EOS or a flushing seek: a looping file pulls again once the seek has landed; otherwise
      // the bus says what happened.
      if (req.loop) setTimeout(pull, 20);
      return;
    }
    const capturedAt = Date.now();
    const frameSeq = seq++;
    // Realtime: latest frame wins; a frame is dropped (a gap in seq) while the parent is behind.
    // Offline: wait for the pipe instead, so no frame is lost.
    if (!req.realtime || !out.writableNeedDrain) {
      const width = Number(caps.width);
      const height = Number(caps.height);
      out.write(encodeRecordHeader({ kind: RecordKind.frame, seq: frameSeq, capturedAt, width, height, length: buf.length }));
      out.write(buf);
    }
    if (!req.realtime && out.writableNeedDrain) out.once('drain', pull);
    else pull();
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
  }
});
// The parent closed stdin or died: no orphan outlives it.
lines.on('close', () => shutdown(0));
out.on('error', () => shutdown(1));
