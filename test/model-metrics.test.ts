import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerModelMetrics } from '../src/model/model-metrics.js';

async function gauge(registry: Registry, name: string): Promise<Array<{ labels: object; value: number }>> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

test('a model swapped in under the same name keeps its gauges while the old one closes', async () => {
  const registry = new Registry();
  const old = registerModelMetrics(registry, { name: 'msta', provider: 'cpu', sha256: 'aaa' });
  old.workers(2);
  const next = registerModelMetrics(registry, { name: 'msta', provider: 'cpu', sha256: 'bbb' });
  next.workers(2);
  // The old model's workers retire one by one, then it closes.
  old.workers(1);
  old.workers(0);
  old.remove();
  assert.deepEqual(await gauge(registry, 'msta_inference_workers_ready'), [{ labels: { model: 'msta' }, value: 2 }]);
  assert.deepEqual(await gauge(registry, 'msta_model_info'), [{ labels: { model: 'msta', provider: 'cpu', sha256: 'bbb' }, value: 1 }]);
  next.remove();
  assert.deepEqual(await gauge(registry, 'msta_inference_workers_ready'), []);
  assert.deepEqual(await gauge(registry, 'msta_model_info'), []);
});

test('a refused swap (the new model closes first) shows the model still serving again', async () => {
  const registry = new Registry();
  const serving = registerModelMetrics(registry, { name: 'door', provider: 'cpu', sha256: 'aaa' });
  serving.workers(2);
  const refused = registerModelMetrics(registry, { name: 'door-2', provider: 'cpu', sha256: 'ccc' });
  refused.workers(0);
  refused.remove();
  refused.remove(); // closing twice changes nothing
  assert.deepEqual(await gauge(registry, 'msta_model_info'), [{ labels: { model: 'door', provider: 'cpu', sha256: 'aaa' }, value: 1 }]);
  assert.deepEqual(await gauge(registry, 'msta_inference_workers_ready'), [{ labels: { model: 'door' }, value: 2 }]);

  const sameName = registerModelMetrics(registry, { name: 'door', provider: 'cpu', sha256: 'ddd' });
  sameName.workers(1);
  sameName.remove();
  assert.deepEqual(await gauge(registry, 'msta_inference_workers_ready'), [{ labels: { model: 'door' }, value: 2 }]);
  assert.deepEqual(await gauge(registry, 'msta_model_info'), [{ labels: { model: 'door', provider: 'cpu', sha256: 'aaa' }, value: 1 }]);
});
