// Inference settings picked from the host when the config says "auto": a pure function of the
// CPU count and the execution provider in use, so the choice can be tested and logged.
import type { Provider } from './create-session.js';

export type Auto<T> = T | 'auto';

export interface ConfiguredInference {
  workers: Auto<number>;
  /** 0 = onnxruntime decides. */
  intraOpThreads: Auto<number>;
  maxBatch: Auto<number>;
  /** onnxruntime's thread pools spin-wait between runs when true. */
  spinning: Auto<boolean>;
}

export interface InferenceSettings {
  workers: number;
  intraOpThreads: number;
  maxBatch: number;
  spinning: boolean;
  /**
   * Batches in flight per worker: 2 for a small model (the next one waits in the worker's queue,
   * so it never idles for a round trip through the main thread), 1 for a large one (a queued clip
   * would only grow older: it waits in the scheduler instead, where a newer one can replace it).
   */
  pipeline: number;
  /** The settings that were "auto", for the log line. */
  auto: (keyof ConfiguredInference)[];
}

/** Most workers chosen on a CPU: each holds a whole copy of the graphs in memory. */
const MAX_CPU_WORKERS = 4;

/**
 * The session settings: they must be known before the first session is made, so they do not
 * depend on the provider. One intra-op thread per worker up to 4 cores, more only beyond; no
 * spin-waiting (measured on a 2-core host: spinning threads cost CPU and add no clips/s).
 */
export function sessionSettings(c: Pick<ConfiguredInference, 'intraOpThreads' | 'spinning'>, cpus: number): { intraOpThreads: number; spinning: boolean } {
  return {
    intraOpThreads: c.intraOpThreads === 'auto' ? Math.max(1, Math.floor(cpus / cpuWorkers(cpus))) : c.intraOpThreads,
    spinning: c.spinning === 'auto' ? false : c.spinning,
  };
}

function cpuWorkers(cpus: number): number {
  return Math.max(1, Math.min(cpus, MAX_CPU_WORKERS));
}

/**
 * A video graph under this size is a small model, where a run's fixed cost matters: batching
 * and a queued batch per worker pay. (The file size, not a timing: the choice must not depend
 * on how loaded the host happens to be at start.) The test bundle's is 1.5 MB, ViCLIP-B/16's 347 MB.
 */
const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/**
 * A small model's batch on a CPU: as many clips as fit in this much input, between 4 and 16. A
 * run's fixed cost, and the stage's per-batch work on both threads, then weigh little: measured
 * with the test bundle (96 KB clips) on a 2-core host, the main thread's CPU per clip halved from
 * batch 4 to 16 while raw session.run() was level or faster (docs/inference.md). Clips of
 * 224 x 224 keep batches of 4.
 */
const SMALL_BATCH_INPUT_BYTES = 1.5 * 1024 * 1024;

function smallModelBatch(clipBytes: number): number {
  return Math.min(16, Math.max(4, Math.floor(SMALL_BATCH_INPUT_BYTES / clipBytes)));
}

/**
 * Everything, once the provider in use is known. On a CPU: as many workers as cores (up to 4),
 * one clip per run for a large model (every core already runs a clip; batching only adds
 * latency), 4-16 for a small one (a run's fixed cost is then much of it). On a GPU: one worker
 * and batches of 8 (one device; batching is what fills it).
 */
export function resolveInferenceSettings(c: ConfiguredInference, host: { cpus: number; provider: Provider; graphBytes: number; clipBytes: number }): InferenceSettings {
  const cpu = host.provider === 'cpu';
  const small = host.graphBytes < SMALL_MODEL_BYTES;
  const auto = (['workers', 'intraOpThreads', 'maxBatch', 'spinning'] as const).filter((k) => c[k] === 'auto');
  return {
    ...sessionSettings(c, host.cpus),
    workers: c.workers === 'auto' ? (cpu ? cpuWorkers(host.cpus) : 1) : c.workers,
    maxBatch: c.maxBatch === 'auto' ? (cpu ? (small ? smallModelBatch(host.clipBytes) : 1) : 8) : c.maxBatch,
    pipeline: small ? 2 : 1,
    auto,
  };
}
