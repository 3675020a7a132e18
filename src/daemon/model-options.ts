// The model section of the config, as the model stage's options.
import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';
import type { ModelOptions } from '../model/video-model.js';

export function modelOptions(model: NonNullable<Config['model']>, cpus = availableParallelism()): ModelOptions {
  return {
    cpus,
    spinning: model.spinning,
    providers: model.providers,
    intraOpThreads: model.intra_op_threads,
    interOpThreads: model.inter_op_threads,
    tensorrt: { fp16: model.tensorrt.fp16, engineCacheDir: model.tensorrt.engine_cache_dir },
    precision: model.precision,
    workers: model.workers,
    maxBatch: model.max_batch,
    maxWaitMs: model.max_wait_ms,
    timeout: { factor: model.timeout_factor, minSeconds: model.timeout_min_s },
    maxRestarts: model.max_restarts,
  };
}
