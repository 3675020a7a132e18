import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ModelMetrics {
  inference(seconds: number, batch: number): void;
  failed(): void;
}

/** The registry's metric of that name, or a new one: a model swapped in reuses the series' metrics. */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * Inference metrics for one loaded model, registered on the given registry (or joined, when a
 * model swapped in finds them there); msta_model_info then names this model alone.
 */
export function registerModelMetrics(registry: Registry, model: { name: string; provider: string; sha256: string }): ModelMetrics {
  const seconds = once(registry, 'msta_inference_seconds', () => new Histogram({
    name: 'msta_inference_seconds',
    help: 'Time for one batched video inference',
    labelNames: ['model', 'provider'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [registry],
  }));
  const batch = once(registry, 'msta_inference_batch_size', () => new Histogram({
    name: 'msta_inference_batch_size',
    help: 'Clips per inference',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  }));
  const failures = once(registry, 'msta_inference_failures_total', () => new Counter({ name: 'msta_inference_failures_total', help: 'Inferences that failed', labelNames: ['model'], registers: [registry] }));
  // At 0 from the start, so increase() and rate() alerts see the series before the first failure.
  failures.inc({ model: model.name }, 0);
  const info = once(registry, 'msta_model_info', () => new Gauge({
    name: 'msta_model_info',
    help: 'The loaded model and the execution provider actually in use',
    labelNames: ['model', 'provider', 'sha256'],
    registers: [registry],
  }));
  info.reset();
  info.set({ model: model.name, provider: model.provider, sha256: model.sha256 }, 1);
  return {
    inference(s, b) {
      seconds.observe({ model: model.name, provider: model.provider }, s);
      batch.observe({ model: model.name }, b);
    },
    failed: () => failures.inc({ model: model.name }),
  };
}
