import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import { INFERENCE_FAILURE_REASONS, type InferenceFailureReason } from './inference-failure.js';

export interface ModelMetrics {
  inference(seconds: number, batch: number): void;
  /** `clips` clips whose inference failed for `reason`. */
  failed(reason: InferenceFailureReason, clips: number): void;
  workers(ready: number): void;
  restarted(): void;
  /** Removes this model's series (a model swapped out, or closed). */
  remove(): void;
}

/**
 * Per registry, the loaded models, newest last. msta_model_info names the newest alone, and a
 * name's gauges belong to the newest model of that name (a bundle swapped in often keeps its
 * predecessor's name): a model still closing neither overwrites nor removes a newer one's, and
 * when the newest goes first (a refused swap) the one still serving shows again.
 */
const holders = new WeakMap<Registry, Holder[]>();

interface Holder {
  name: string;
  showInfo(): void;
  showWorkers(): void;
}

/** The registry's metric of that name, or a new one: a second model (a hot swap) shares them. */
function shared<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/**
 * Inference metrics for one loaded model, registered on the given registry (or joined, when a
 * model swapped in finds them there); msta_model_info then names this model alone.
 */
export function registerModelMetrics(registry: Registry, model: { name: string; provider: string; sha256: string }): ModelMetrics {
  const registers = [registry];
  const seconds = shared(registry, 'msta_inference_seconds', () => new Histogram({
    name: 'msta_inference_seconds',
    help: 'Time for one batched video inference',
    labelNames: ['model', 'provider'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers,
  }));
  const batch = shared(registry, 'msta_inference_batch_size', () => new Histogram({
    name: 'msta_inference_batch_size',
    help: 'Clips per inference',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers,
  }));
  const failures = shared(registry, 'msta_inference_failures_total', () => new Counter({
    name: 'msta_inference_failures_total',
    help: 'Clips whose inference failed, by reason (error: the graph failed; timeout: no answer in time; worker_exit: the worker died)',
    labelNames: ['model', 'reason'],
    registers,
  }));
  const workers = shared(registry, 'msta_inference_workers_ready', () => new Gauge({
    name: 'msta_inference_workers_ready',
    help: 'Inference workers loaded and answering',
    labelNames: ['model'],
    registers,
  }));
  const restarts = shared(registry, 'msta_inference_worker_restarts_total', () => new Counter({
    name: 'msta_inference_worker_restarts_total',
    help: 'Inference workers replaced after they died or hung',
    labelNames: ['model'],
    registers,
  }));
  const info = shared(registry, 'msta_model_info', () => new Gauge({
    name: 'msta_model_info',
    help: 'The loaded model and the execution provider actually in use',
    labelNames: ['model', 'provider', 'sha256'],
    registers,
  }));
  const byModel = { model: model.name };
  const infoLabels = { model: model.name, provider: model.provider, sha256: model.sha256 };
  let ready: number | undefined;
  const me: Holder = {
    name: model.name,
    showInfo() {
      info.reset();
      info.set(infoLabels, 1);
    },
    showWorkers() {
      if (ready !== undefined) workers.set(byModel, ready);
    },
  };
  const loaded = holders.get(registry) ?? [];
  holders.set(registry, loaded);
  loaded.push(me);
  const newestNamed = (name: string): Holder | undefined => loaded.findLast((h) => h.name === name);
  me.showInfo();
  // Every reason has a sample from the start, so rate() and increase() alerts see the first one.
  zeroSeries(failures, { model: [model.name], reason: INFERENCE_FAILURE_REASONS });
  restarts.inc(byModel, 0);
  return {
    inference(s, b) {
      seconds.observe({ model: model.name, provider: model.provider }, s);
      batch.observe(byModel, b);
    },
    failed: (reason, clips) => failures.inc({ ...byModel, reason }, clips),
    workers: (n) => {
      ready = n;
      if (newestNamed(model.name) === me) me.showWorkers();
    },
    restarted: () => restarts.inc(byModel),
    remove() {
      if (!loaded.includes(me)) return;
      const wasNewest = loaded.at(-1) === me;
      const ownedWorkers = newestNamed(model.name) === me;
      loaded.splice(loaded.indexOf(me), 1);
      if (ownedWorkers) {
        workers.remove(byModel);
        newestNamed(model.name)?.showWorkers();
      }
      if (wasNewest) {
        info.remove(infoLabels);
        loaded.at(-1)?.showInfo();
      }
    },
  };
}
