// Worker-thread entry: owns the onnxruntime sessions, because session.run() blocks its thread for
// the whole inference and the main thread must stay responsive. Its imports stay few and small:
// a bigger heap here made V8 run a full mark-compact every ~0.7 s under the clips' transferred
// buffers (docs/inference.md).
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { isMstaError } from '../errors.js';
import { createSession } from './create-session.js';
import { checkGraph, type GraphSignature } from './check-graph.js';
import type { InitRequest, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort!;
// onnxruntime prints its own error lines when a provider's libraries are missing; the fallback is
// logged once, readably, by the main thread instead.
ort.env.logLevel = 'fatal';
let video: ort.InferenceSession | undefined;
let text: ort.InferenceSession | undefined;
let clipShape: InitRequest['clipShape'] = [1, 1, 1, 3];

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

const signature = (s: ort.InferenceSession): GraphSignature => ({
  inputs: s.inputMetadata.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false })),
  outputs: s.outputMetadata.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false })),
});

/**
 * A batch's input, reused from run to run: a fresh buffer of a batch's size (hundreds of KB) is
 * mapped, faulted in and unmapped each time, and its garbage collected. Safe because requests run
 * one at a time and a run keeps nothing of its input.
 */
let batchBuffer = new Uint8Array(0);

async function runVideo(clips: Uint8Array[]): Promise<Float32Array> {
  const clipBytes = clipShape.reduce((a, b) => a * b, 1);
  let frames: Uint8Array;
  if (clips.length === 1) frames = clips[0]!;
  else {
    if (batchBuffer.length < clipBytes * clips.length) batchBuffer = new Uint8Array(clipBytes * clips.length);
    frames = batchBuffer.subarray(0, clipBytes * clips.length);
    clips.forEach((c, i) => frames.set(c, i * clipBytes));
  }
  const out = await video!.run({ frames: new ort.Tensor('uint8', frames, [clips.length, ...clipShape]) });
  return out.video_embeds!.data as Float32Array;
}

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.kind) {
    case 'init': {
      clipShape = request.clipShape;
      const v = await createSession(request.videoPath, request.session, request.cpuVideoPath, request.sha256);
      // The text graph is small and runs once at start-up: the video graph's provider serves it.
      const t = await createSession(request.textPath, { ...request.session, providers: [v.provider, ...request.session.providers.filter((p) => p !== v.provider)] }, undefined, request.sha256);
      checkGraph(request.videoPath, signature(v.session), request.expected.video);
      checkGraph(request.textPath, signature(t.session), request.expected.text);
      video = v.session;
      text = t.session;
      const started = performance.now();
      await runVideo([new Uint8Array(clipShape.reduce((a, b) => a * b, 1))]);
      reply({
        kind: 'ready',
        provider: v.provider,
        fallbacks: v.fallbacks,
        warmupSeconds: (performance.now() - started) / 1000,
      });
      return;
    }
    case 'video': {
      const started = performance.now();
      const embeds = await runVideo(request.clips);
      reply({ kind: 'result', id: request.id, embeds, seconds: (performance.now() - started) / 1000 }, [embeds.buffer as ArrayBuffer]);
      return;
    }
    case 'text': {
      const started = performance.now();
      const length = request.ids.length / request.rows;
      const out = await text!.run({ input_ids: new ort.Tensor('int64', request.ids, [request.rows, length]) });
      const embeds = out.text_embeds!.data as Float32Array;
      reply({ kind: 'result', id: request.id, embeds, seconds: (performance.now() - started) / 1000 }, [embeds.buffer as ArrayBuffer]);
      return;
    }
  }
}

// One request at a time, in arrival order: a request queued behind a running one (the model's
// pipeline of batches) starts its clock, and fills the batch buffer, only when its turn comes.
let queue = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => handle(request)).catch((e: unknown) => {
    const id = request.kind === 'init' ? undefined : request.id;
    reply({
      kind: 'error',
      id,
      code: isMstaError(e) ? e.code : request.kind === 'init' ? 'BUNDLE_INVALID' : 'INFERENCE_FAILED',
      message: (e as Error).message,
    });
  });
});
