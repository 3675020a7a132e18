// The daemon's end-to-end event metrics: the latency from a clip's last frame to its event
// handed to the broker, and that latency less the inference its clip waited for, on a given clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { registerEventMetrics } from '../src/daemon/event-metrics.js';
import type { ActionEvent } from '../src/types.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

function event(lastFrameAt: number, inferenceSeconds: number): ActionEvent {
  return {
    id: 'e1', type: 'start', camera: 'yard', region: null, label: 'waving', score: 0.8, topScore: 0.8, startedAt: lastFrameAt - 2000, endedAt: null,
    clip: { firstFrameAt: lastFrameAt - 1000, lastFrameAt, frames: 8, inferenceSeconds }, top: [{ label: 'waving', score: 0.8 }], model: { name: 'm', sha256: 'f'.repeat(64) }, snapshot: false,
  };
}

/** A histogram's sum and its cumulative bucket counts by `le`. */
async function histogram(registry: Registry, name: string): Promise<{ sum: number; count: number; buckets: Map<number, number> }> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric instanceof Histogram, `${name} is a histogram`);
  const values = (await metric.get()).values;
  const one = (suffix: string) => values.find((v) => v.metricName === `${name}${suffix}`)!.value;
  const buckets = new Map(values.filter((v) => v.metricName === `${name}_bucket` && v.labels.le !== '+Inf').map((v) => [Number(v.labels.le), v.value]));
  return { sum: one('_sum'), count: one('_count'), buckets };
}

test('the overhead is the event latency less its clip\'s inference', async () => {
  const registry = new Registry();
  const metrics = registerEventMetrics(registry);
  // Published 137 ms after the clip's last frame, 120 ms of which its batch's inference took.
  metrics.sent(event(T0, 0.12), T0 + 137);
  const latency = await histogram(registry, 'msta_event_latency_seconds');
  const overhead = await histogram(registry, 'msta_event_overhead_seconds');
  assert.equal(latency.count, 1);
  assert.ok(Math.abs(latency.sum - 0.137) < 1e-9, `latency ${latency.sum}`);
  assert.equal(overhead.count, 1);
  assert.ok(Math.abs(overhead.sum - 0.017) < 1e-9, `overhead ${overhead.sum}`);
  // 17 ms: above the 15 ms bucket, within the 20 ms one.
  assert.equal(overhead.buckets.get(0.015), 0);
  assert.equal(overhead.buckets.get(0.02), 1);
});

test('an inference longer than the latency on the millisecond clocks counts as no overhead, not a negative one', async () => {
  const registry = new Registry();
  registerEventMetrics(registry).sent(event(T0, 0.0105), T0 + 10);
  const overhead = await histogram(registry, 'msta_event_overhead_seconds');
  assert.equal(overhead.sum, 0);
  assert.equal(overhead.buckets.get(0.001), 1);
});
