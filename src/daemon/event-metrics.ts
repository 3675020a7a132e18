import { Counter, Histogram, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import type { ActionEvent } from '../types.js';

const EVENT_TYPES = ['start', 'update', 'end'] as const satisfies readonly ActionEvent['type'][];

export interface EventMetrics {
  /** Creates a stream's msta_events_total series at 0 for every label it can report (alerts on increase() see the first event). */
  camera(camera: string, labels: readonly string[], region?: string | null): void;
  /** Counts the event and observes its latency from the clip's last frame to now (published). */
  published(event: ActionEvent, now?: number): void;
}

/** End-to-end metrics: they span every stage, so the daemon (which wires them) owns them. */
export function registerEventMetrics(registry: Registry): EventMetrics {
  const events = new Counter({ name: 'msta_events_total', help: 'Action events published', labelNames: ['camera', 'region', 'label', 'type'], registers: [registry] });
  const latency = new Histogram({
    name: 'msta_event_latency_seconds',
    help: "From a clip's last frame to its event handed to the sink (spooled or sent)",
    labelNames: ['camera'],
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [registry],
  });
  return {
    camera(camera, labels, region = null) {
      zeroSeries(events, { camera: [camera], region: [region ?? ''], label: labels, type: EVENT_TYPES });
    },
    published(event, now = Date.now()) {
      // region "" for the whole camera; the latency histogram stays per camera (its buckets times regions would be many series).
      events.inc({ camera: event.camera, region: event.region ?? '', label: event.label, type: event.type });
      latency.observe({ camera: event.camera }, Math.max(0, now - event.clip.lastFrameAt) / 1000);
    },
  };
}
