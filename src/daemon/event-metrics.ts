import { Counter, Histogram, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import type { ActionEvent } from '../types.js';

const EVENT_TYPES = ['start', 'update', 'end'] as const satisfies readonly ActionEvent['type'][];

export interface EventMetrics {
  /** Creates a stream's msta_events_total series at 0 for every label it can report (alerts on increase() see the first event). */
  camera(camera: string, labels: readonly string[], region?: string | null): void;
  /** Observes the event's latency from its clip's last frame to now (handed to the broker's connection, or spooled while there is none), and that less its clip's inference. */
  sent(event: ActionEvent, now?: number): void;
  /** Counts the event once it is safe (acknowledged or durably spooled). */
  published(event: ActionEvent): void;
}

/** End-to-end metrics: they span every stage, so the daemon (which wires them) owns them. */
export function registerEventMetrics(registry: Registry): EventMetrics {
  const events = new Counter({ name: 'msta_events_total', help: 'Action events published', labelNames: ['camera', 'region', 'label', 'type'], registers: [registry] });
  const latency = new Histogram({
    name: 'msta_event_latency_seconds',
    help: "From a clip's last frame to its event handed to the broker's connection (or durably spooled while there is none)",
    labelNames: ['camera'],
    // From 5 ms: small models and GPUs publish well under the first 50 ms bucket.
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [registry],
  });
  // The latency the daemon itself adds, whatever the model's speed: the goal is stated on it (p99 <= 15 ms), hence the fine buckets.
  const overhead = new Histogram({
    name: 'msta_event_overhead_seconds',
    help: 'Event latency less the inference its clip waited for: frame delivery, clip assembly, scheduling, transfer, recognition, publish',
    labelNames: ['camera'],
    buckets: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5],
    registers: [registry],
  });
  return {
    camera(camera, labels, region = null) {
      zeroSeries(events, { camera: [camera], region: [region ?? ''], label: labels, type: EVENT_TYPES });
    },
    published(event) {
      // region "" for the whole camera; the latency histograms stay per camera (their buckets times regions would be many series).
      events.inc({ camera: event.camera, region: event.region ?? '', label: event.label, type: event.type });
    },
    sent(event, now = Date.now()) {
      const seconds = Math.max(0, now - event.clip.lastFrameAt) / 1000;
      latency.observe({ camera: event.camera }, seconds);
      overhead.observe({ camera: event.camera }, Math.max(0, seconds - event.clip.inferenceSeconds));
    },
  };
}
