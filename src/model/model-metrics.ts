import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ModelMetrics {
  inference(seconds: number, batch: number): void;
  failed(): void;
}

/** Inference metrics for one loaded model, registered on the given registry. */
export function registerModelMetrics(registry: Registry, model: { name: string; provider: string; sha256: string }): ModelMetrics {
  const seconds = new Histogram({
    name: 'msta_inference_seconds',
    help: 'Time for one batched video inference',
    labelNames: ['model', 'provider'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const batch = new Histogram({
    name: 'msta_inference_batch_size',
    help: 'Clips per inference',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const failures = new Counter({ name: 'msta_inference_failures_total', help: 'Inferences that failed', labelNames: ['model'], registers: [registry] });
  // At 0 from the start, so increase() and rate() alerts see the series before the first failure.
  failures.inc({ model: model.name }, 0);
  new Gauge({
    name: 'msta_model_info',
    help: 'The loaded model and the execution provider actually in use',
    labelNames: ['model', 'provider', 'sha256'],
    registers: [registry],
  }).set({ model: model.name, provider: model.provider, sha256: model.sha256 }, 1);
  return {
    inference(s, b) {
      seconds.observe({ model: model.name, provider: model.provider }, s);
      batch.observe({ model: model.name }, b);
    },
    failed: () => failures.inc({ model: model.name }),
  };
}
