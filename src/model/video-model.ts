// The model stage's front: supervised worker threads running the bundle's graphs, fed by a
// micro-batcher. A failed inference fails its clips (counted, logged once per burst) and the next
// ones run; a worker that dies or hangs is replaced by a fresh one, warmed up; a worker that cannot
// be replaced makes the model fatal (the daemon exits non-zero and systemd restarts it).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';
import type { Clip, ClipEmbedding } from '../types.js';
import { expectedSignatures } from './check-graph.js';
import { checkProviders, type Provider, type SessionOptions } from './create-session.js';
import { FailureBurst } from './failure-burst.js';
import { failureReason, inferenceTimeoutMs, type InferenceFailureReason } from './inference-failure.js';
import { InferenceThread } from './inference-thread.js';
import { resolveInferenceSettings, sessionSettings, type ConfiguredInference, type InferenceSettings } from './inference-settings.js';
import { MicroBatcher } from './micro-batcher.js';
import { registerModelMetrics, type ModelMetrics } from './model-metrics.js';
import type { Bundle } from './read-bundle.js';
import type { ReadyReply, WorkerRequest } from './worker-protocol.js';

export interface ModelOptions extends ConfiguredInference {
  providers: string[];
  interOpThreads: number;
  tensorrt: SessionOptions['tensorrt'];
  /** auto: the bundle's int8 video graph where the CPU provider serves and the bundle has one; fp32: never. */
  precision: 'auto' | 'fp32';
  /** The host's CPUs: what "auto" settings are chosen from. */
  cpus: number;
  maxWaitMs: number;
  /** A request's timeout: max(factor x warm-up time x batch, minSeconds). */
  timeout: { factor: number; minSeconds: number };
  /** Consecutive failed attempts to replace a worker before the model is lost. */
  maxRestarts: number;
}

export interface ModelDeps {
  log: Logger;
  registry: Registry;
  /** The model cannot be recovered: the process should exit non-zero. */
  onFatal?: (e: MstaError) => void;
  /** Each worker thread as it starts. For tests (killing one); config cannot reach it. */
  onWorker?: (worker: Worker) => void;
}

export interface ModelHealth {
  /** Every worker loaded and answering, and the last inference succeeded. */
  ok: boolean;
  detail: string;
  workers: number;
  ready: number;
  /** Clips failed since the last success. */
  consecutiveFailures: number;
  lastFailure?: { reason: InferenceFailureReason; message: string; at: number };
}

export interface VideoModel {
  readonly bundle: Bundle;
  /** The execution provider actually in use (after any fallback). */
  readonly provider: Provider;
  readonly warmupSeconds: number;
  /** The settings in use ("auto" resolved). */
  readonly settings: InferenceSettings;
  embedClip(clip: Clip): Promise<ClipEmbedding>;
  /** Rows of context_length token ids -> rows x embed_dim embeddings. */
  embedTokens(ids: BigInt64Array, rows: number): Promise<Float32Array>;
  /** For /healthz: are the workers answering within the timeout? */
  health(): ModelHealth;
  /** Measured clips per second all workers together infer; undefined before the first inference. */
  capacity(): number | undefined;
  close(): Promise<void>;
}

interface Job {
  clip: Clip;
  resolve: (e: ClipEmbedding) => void;
  reject: (e: unknown) => void;
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
  const session = sessionSettings(options, options.cpus);
  const init: WorkerRequest = {
    kind: 'init',
    videoPath: bundle.videoPath,
    ...(options.precision === 'auto' && bundle.int8VideoPath ? { cpuVideoPath: bundle.int8VideoPath } : {}),
    textPath: bundle.textPath,
    session: { providers: options.providers, intraOpThreads: session.intraOpThreads, interOpThreads: options.interOpThreads, spinning: session.spinning, tensorrt: options.tensorrt },
    clipShape: [m.frames, m.height, m.width, 3],
    expected: expectedSignatures(m),
    // Every worker (a replacement too) opens the files bundle.json pinned, or none: files replaced
    // in the bundle directory are a new model, loaded by a reload (SIGHUP), never by a worker.
    sha256: Object.fromEntries(Object.entries(m.files).map(([name, sha]) => [join(bundle.dir, name), sha])),
  };

  let closed = false;
  let fatal: MstaError | undefined;
  const slots: (InferenceThread | undefined)[] = [];
  let onLost: (slot: number, thread: InferenceThread, reason: InferenceFailureReason, message: string) => void = () => undefined;
  const spawn = (slot: number): InferenceThread => {
    const thread: InferenceThread = new InferenceThread((reason, message) => onLost(slot, thread, reason, message));
    deps.onWorker?.(thread.worker);
    return thread;
  };
  const openAll = async (threads: InferenceThread[], request: WorkerRequest): Promise<ReadyReply[]> => {
    try {
      // No timeout at start: a first load (or a TensorRT engine build) takes what it takes.
      return await Promise.all(threads.map((t) => t.init(request, Infinity)));
    } catch (e) {
      await Promise.all([...threads, ...slots].map((t) => t?.retire()));
      throw e;
    }
  };

  // The first worker finds the provider that works; the others (and replacements) go straight to it.
  const loadStarted = performance.now();
  const firstThread = spawn(0);
  const [first] = await openAll([firstThread], init);
  slots[0] = firstThread;
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  for (const f of first!.fallbacks) log.warn({ provider: f.provider, reason: f.reason }, `execution provider ${f.provider} unavailable, falling back`);
  const clipBytes = m.frames * m.height * m.width * 3;
  const settings = resolveInferenceSettings(options, { cpus: options.cpus, provider: first!.provider, graphBytes: statSync(bundle.videoPath).size, clipBytes });
  log.info(
    { provider: first!.provider, cpus: options.cpus, warmup_s: Number(first!.warmupSeconds.toFixed(3)), workers: settings.workers, intra_op_threads: settings.intraOpThreads, max_batch: settings.maxBatch, spinning: settings.spinning, pipeline: settings.pipeline, auto: settings.auto },
    'inference settings',
  );
  const known: WorkerRequest = { ...init, session: { ...init.session, providers: [first!.provider] } };
  const others = Array.from({ length: settings.workers - 1 }, (_, i) => spawn(i + 1));
  const ready = [first!, ...(await openAll(others, known))];
  others.forEach((t, i) => (slots[i + 1] = t));
  const warmupSeconds = Math.max(...ready.map((r) => r.warmupSeconds));
  const timeoutFor = (batch: number): number => inferenceTimeoutMs(warmupSeconds, batch, options.timeout);
  // A replacement loads the same graphs: it may take the timeout factor times the first load.
  const initTimeoutMs = inferenceTimeoutMs(loadSeconds, 1, options.timeout);
  log.info(
    {
      model: m.name,
      provider: first!.provider,
      precision: first!.provider === 'cpu' && init.cpuVideoPath ? 'int8' : 'fp32',
      workers: settings.workers,
      warmup_s: Number(warmupSeconds.toFixed(3)),
      timeout_s: Number((timeoutFor(1) / 1000).toFixed(2)),
    },
    'model loaded and warmed up',
  );

  const metrics: ModelMetrics = registerModelMetrics(deps.registry, { name: m.name, provider: first!.provider, sha256: bundle.sha256 });
  const readyCount = (): number => slots.filter((t) => t !== undefined && !t.dead).length;
  metrics.workers(readyCount());
  const burst = new FailureBurst();
  let lastFailure: ModelHealth['lastFailure'];
  let perWorkerRate: number | undefined;

  const inFlight = new Set<Promise<void>>();
  /** Threads given up (hung, dead, failed to load) until they have ended. */
  const retiring = new Set<InferenceThread>();
  const retire = (thread: InferenceThread): void => {
    retiring.add(thread);
    void thread.retire().then(() => retiring.delete(thread));
  };
  const textRunning = new Set<InferenceThread>();
  const videoThreads = (): InferenceThread[] => slots.filter((t): t is InferenceThread => t !== undefined && !t.dead && !textRunning.has(t));
  const idleThread = (): InferenceThread | undefined => videoThreads().find((t) => t.inFlight === 0);
  const batcher = new MicroBatcher<Job>({ maxBatch: settings.maxBatch, maxWaitMs: options.maxWaitMs, consumerIdle: () => idleThread() !== undefined }, (jobs) => {
    // An idle worker, or else (small models) one with room in its pipeline: the next batch waits
    // in its queue, so the worker starts it without a round trip through the main thread.
    const thread = idleThread() ?? videoThreads().find((t) => t.inFlight < settings.pipeline);
    if (!thread) return false;
    // Queued behind a running batch, its timeout covers that one too.
    const timeoutMs = timeoutFor(jobs.length) + thread.inFlight * timeoutFor(settings.maxBatch);
    const done = thread
      .request((id) => ({ kind: 'video', id, clips: jobs.map((j) => j.clip.data) }), jobs.map((j) => j.clip.data.buffer as ArrayBuffer), timeoutMs)
      .then(
        (r) => {
          metrics.inference(r.seconds, jobs.length);
          const rate = jobs.length / Math.max(r.seconds, 1e-6);
          perWorkerRate = perWorkerRate === undefined ? rate : 0.8 * perWorkerRate + 0.2 * rate;
          const ended = burst.succeeded();
          if (ended > 0) log.info({ failed_clips: ended }, `inference recovered after ${ended} failed clip(s)`);
          jobs.forEach((j, i) => {
            const { data: _transferred, ...clip } = j.clip;
            j.resolve({ clip, embedding: r.embeds.slice(i * m.embed_dim, (i + 1) * m.embed_dim), provider: first!.provider, inferenceSeconds: r.seconds });
          });
        },
        (e: unknown) => {
          const reason = failureReason(e);
          const message = (e as Error).message;
          metrics.failed(reason, jobs.length);
          lastFailure = { reason, message, at: Date.now() };
          for (const _ of jobs) {
            if (burst.failed()) {
              log.warn({ reason, err: message, cameras: jobs.map((j) => j.clip.camera) }, 'inference failed (further failures are counted, and logged when one succeeds again)');
            }
          }
          for (const j of jobs) j.reject(e);
        },
      )
      .finally(() => {
        inFlight.delete(done);
        batcher.pump();
      });
    inFlight.add(done);
    return true;
  });

  const loseModel = (e: MstaError): void => {
    fatal = e;
    log.fatal({ err: e.message }, 'model lost: no inference worker can be started');
    for (const job of batcher.drain()) job.reject(e);
    deps.onFatal?.(e);
  };

  const replace = async (slot: number): Promise<void> => {
    for (let attempt = 1; !closed; attempt++) {
      const thread = spawn(slot);
      try {
        await thread.init(known, initTimeoutMs);
        if (closed) return void (await thread.retire());
        slots[slot] = thread;
        metrics.restarted();
        metrics.workers(readyCount());
        log.info({ worker: slot, attempt }, 'inference worker replaced');
        batcher.pump();
        return;
      } catch (e) {
        retire(thread);
        log.error({ worker: slot, attempt, err: (e as Error).message }, 'inference worker could not be started');
        if (attempt >= options.maxRestarts) {
          return loseModel(new MstaError('MODEL_FAILED', `inference worker could not be started after ${attempt} attempts: ${(e as Error).message}`, { cause: e }));
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  };

  onLost = (slot, thread, reason, message) => {
    // Only the thread in the slot counts: one that dies while loading is handled by replace().
    if (closed || slots[slot] !== thread) return;
    slots[slot] = undefined;
    metrics.workers(readyCount());
    log.warn({ worker: slot, reason, err: message }, 'inference worker lost: starting a fresh one');
    // A hung thread ends only when its native call returns: do not wait for it.
    retire(thread);
    void replace(slot);
  };

  return {
    bundle,
    provider: first!.provider,
    warmupSeconds,
    settings,
    embedClip(clip) {
      if (fatal) return Promise.reject(fatal);
      if (closed) return Promise.reject(new MstaError('INFERENCE_FAILED', 'model closed'));
      if (clip.data.length !== clipBytes) {
        return Promise.reject(new MstaError('CLIP_SIZE_MISMATCH', `clip is ${clip.data.length} bytes, the model takes ${m.frames}x${m.height}x${m.width}x3 = ${clipBytes}`, { where: clip.camera }));
      }
      return new Promise((resolve, reject) => batcher.add({ clip, resolve, reject }));
    },
    async embedTokens(ids, rows) {
      // Text runs at start-up and on label reloads: a free worker if there is one, no batching.
      const live = slots.filter((t): t is InferenceThread => t !== undefined && !t.dead);
      const thread = live.find((t) => t.inFlight === 0) ?? live[0];
      if (!thread) throw fatal ?? new MstaError('INFERENCE_FAILED', 'no inference worker is running');
      // No video batch is queued behind text (its timeout would count the text's time).
      textRunning.add(thread);
      try {
        const r = await thread.request((id) => ({ kind: 'text', id, ids, rows }), [ids.buffer as ArrayBuffer]);
        return r.embeds;
      } finally {
        textRunning.delete(thread);
        batcher.pump();
      }
    },
    health() {
      const ready = readyCount();
      const consecutiveFailures = burst.failures;
      const ok = !fatal && ready === settings.workers && consecutiveFailures === 0;
      const parts = [`${ready} of ${settings.workers} workers ready`];
      if (fatal) parts.push(fatal.message);
      if (consecutiveFailures > 0 && lastFailure) parts.push(`the last ${consecutiveFailures} clip(s) failed (${lastFailure.reason}: ${lastFailure.message})`);
      return { ok, detail: parts.join('; '), workers: settings.workers, ready, consecutiveFailures, ...(lastFailure ? { lastFailure } : {}) };
    },
    capacity: () => (perWorkerRate === undefined ? undefined : perWorkerRate * settings.workers),
    /** Finishes the inferences in flight (their results still reach their callers), then stops. */
    async close() {
      closed = true;
      for (const job of batcher.drain()) job.reject(new MstaError('INFERENCE_FAILED', 'model closed'));
      await Promise.allSettled([...inFlight]);
      // A hung worker ends when its run returns: the caller bounds how long it waits for that.
      await Promise.all([...slots.map((t) => t?.retire()), ...[...retiring].map((t) => t.untilEnded())]);
      metrics.remove();
    },
  };
}
