// The model stage's front: worker threads running the bundle's graphs, fed by a micro-batcher.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';
import type { Clip, ClipEmbedding } from '../types.js';
import { expectedSignatures } from './check-graph.js';
import { checkProviders, type Provider, type SessionOptions } from './create-session.js';
import { MicroBatcher } from './micro-batcher.js';
import { registerModelMetrics, type ModelMetrics } from './model-metrics.js';
import type { Bundle } from './read-bundle.js';
import type { ReadyReply, ResultReply, WorkerReply, WorkerRequest } from './worker-protocol.js';

export interface ModelOptions extends SessionOptions {
  /** auto: the bundle's int8 video graph where the CPU provider serves and the bundle has one; fp32: never. */
  precision: 'auto' | 'fp32';
  workers: number;
  maxBatch: number;
  maxWaitMs: number;
}

export interface ModelDeps {
  log: Logger;
  registry: Registry;
}

export interface VideoModel {
  readonly bundle: Bundle;
  /** The execution provider actually in use (after any fallback). */
  readonly provider: Provider;
  readonly warmupSeconds: number;
  embedClip(clip: Clip): Promise<ClipEmbedding>;
  /** Rows of context_length token ids -> rows x embed_dim embeddings. */
  embedTokens(ids: BigInt64Array, rows: number): Promise<Float32Array>;
  close(): Promise<void>;
}

interface Job {
  clip: Clip;
  resolve: (e: ClipEmbedding) => void;
  reject: (e: unknown) => void;
}

interface Pending {
  resolve: (r: ResultReply) => void;
  reject: (e: unknown) => void;
}

/** A worker thread and the requests it has not answered yet. */
class InferenceThread {
  readonly worker: Worker;
  busy = false;
  closing = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(onFatal: (e: Error) => void) {
    const dev = import.meta.url.endsWith('.ts');
    const entry = new URL(`./inference-worker${dev ? '.ts' : '.js'}`, import.meta.url);
    // Under tsx (development, tests) the worker is TypeScript too; on Node 20 a worker's
    // `--import tsx` does not cover its entry module, so a bootstrap registers tsx first.
    this.worker = dev
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true })
      : new Worker(entry);
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'ready' || reply.id === undefined) return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.kind === 'result') p.resolve(reply);
      else p.reject(new MstaError(reply.code, reply.message));
    });
    const fail = (e: Error): void => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      onFatal(e);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (!this.closing) fail(new Error(`inference worker exited (code ${code})`));
    });
  }

  init(request: WorkerRequest): Promise<ReadyReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new MstaError('INFERENCE_FAILED', `inference worker exited while loading (code ${code})`));
      const onMessage = (reply: WorkerReply): void => {
        if (reply.kind === 'ready') resolve(reply);
        else if (reply.kind === 'error' && reply.id === undefined) reject(new MstaError(reply.code, reply.message));
        else return;
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
      this.worker.postMessage(request);
    });
  }

  async terminate(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  request(make: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<ResultReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(make(id), transfer);
    });
  }
}

/** Loads the bundle's graphs in worker threads, checks them against bundle.json and warms them up. */
export async function openVideoModel(bundle: Bundle, options: ModelOptions, deps: ModelDeps): Promise<VideoModel> {
  checkProviders(options.providers);
  const m = bundle.manifest;
  const log = deps.log;
  if (options.providers.includes('tensorrt')) {
    // Read by the TensorRT provider from the process environment, whatever the binding passes.
    process.env.ORT_TENSORRT_FP16_ENABLE ??= options.tensorrt.fp16 ? '1' : '0';
    process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE ??= '1';
    process.env.ORT_TENSORRT_CACHE_PATH ??= options.tensorrt.engineCacheDir;
  }
  let fatal: Error | undefined;
  const threads = Array.from({ length: options.workers }, () => new InferenceThread((e) => {
    fatal = e;
    log.error({ err: e.message }, 'inference worker died');
  }));
  const init: WorkerRequest = {
    kind: 'init',
    videoPath: bundle.videoPath,
    ...(options.precision === 'auto' && bundle.int8VideoPath ? { cpuVideoPath: bundle.int8VideoPath } : {}),
    textPath: bundle.textPath,
    session: { providers: options.providers, intraOpThreads: options.intraOpThreads, interOpThreads: options.interOpThreads, tensorrt: options.tensorrt },
    clipShape: [m.frames, m.height, m.width, 3],
    expected: expectedSignatures(m),
  };
  let ready: ReadyReply[];
  try {
    ready = await Promise.all(threads.map((t) => t.init(init)));
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw e;
  }
  const first = ready[0]!;
  for (const f of first.fallbacks) log.warn({ provider: f.provider, reason: f.reason }, `execution provider ${f.provider} unavailable, falling back`);
  const precision = first.provider === 'cpu' && init.cpuVideoPath ? 'int8' : 'fp32';
  log.info({ model: m.name, provider: first.provider, precision, workers: threads.length, warmup_s: Number(first.warmupSeconds.toFixed(3)) }, 'model loaded and warmed up');

  const metrics: ModelMetrics = registerModelMetrics(deps.registry, { name: m.name, provider: first.provider, sha256: bundle.sha256 });
  const clipBytes = m.frames * m.height * m.width * 3;

  const inFlight = new Set<Promise<void>>();
  const batcher = new MicroBatcher<Job>({ maxBatch: options.maxBatch, maxWaitMs: options.maxWaitMs }, (jobs) => {
    const thread = threads.find((t) => !t.busy);
    if (!thread) return false;
    thread.busy = true;
    const done = thread
      .request((id) => ({ kind: 'video', id, clips: jobs.map((j) => j.clip.data) }), jobs.map((j) => j.clip.data.buffer as ArrayBuffer))
      .then(
        (r) => {
          metrics.inference(r.seconds, jobs.length);
          jobs.forEach((j, i) => {
            const { data: _transferred, ...clip } = j.clip;
            j.resolve({ clip, embedding: r.embeds.slice(i * m.embed_dim, (i + 1) * m.embed_dim), provider: first.provider, inferenceSeconds: r.seconds });
          });
        },
        (e: unknown) => {
          metrics.failed();
          for (const j of jobs) j.reject(e);
        },
      )
      .finally(() => {
        thread.busy = false;
        inFlight.delete(done);
        batcher.pump();
      });
    inFlight.add(done);
    return true;
  });

  return {
    bundle,
    provider: first.provider,
    warmupSeconds: first.warmupSeconds,
    embedClip(clip) {
      if (fatal) return Promise.reject(new MstaError('INFERENCE_FAILED', `inference worker died: ${fatal.message}`));
      if (clip.data.length !== clipBytes) {
        return Promise.reject(new MstaError('CLIP_SIZE_MISMATCH', `clip is ${clip.data.length} bytes, the model takes ${m.frames}x${m.height}x${m.width}x3 = ${clipBytes}`, { where: clip.camera }));
      }
      return new Promise((resolve, reject) => batcher.add({ clip, resolve, reject }));
    },
    async embedTokens(ids, rows) {
      // Text runs once at start-up and on label reloads: any worker, no batching needed.
      const thread = threads[0]!;
      const r = await thread.request((id) => ({ kind: 'text', id, ids, rows }), [ids.buffer as ArrayBuffer]);
      return r.embeds;
    },
    /** Finishes the inferences in flight (their results still reach their callers), then stops. */
    async close() {
      for (const job of batcher.drain()) job.reject(new MstaError('INFERENCE_FAILED', 'model closed'));
      await Promise.allSettled([...inFlight]);
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
