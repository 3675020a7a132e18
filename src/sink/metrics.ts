// The sink's Prometheus metrics, registered on the registry the daemon passes in.
import { Counter, Gauge, type Registry } from 'prom-client';

export type PublishKind = 'event' | 'status' | 'state' | 'scores' | 'discovery';
export type SpoolDropReason = 'full' | 'rejected' | 'unreadable';

export interface SinkMetrics {
  connected: Gauge;
  spoolMessages: Gauge;
  spoolBytes: Gauge;
  published: Counter<'kind'>;
  spoolDropped: Counter<'reason'>;
  scoresSkipped: Counter;
}

export function sinkMetrics(registry: Registry): SinkMetrics {
  const registers = [registry];
  return {
    connected: new Gauge({ name: 'msta_mqtt_connected', help: '1 while connected to the MQTT broker', registers }),
    spoolMessages: new Gauge({ name: 'msta_mqtt_spool_messages', help: 'events in the on-disk spool, not yet acknowledged', registers }),
    spoolBytes: new Gauge({ name: 'msta_mqtt_spool_bytes', help: 'bytes of events in the on-disk spool', registers }),
    published: new Counter({
      name: 'msta_mqtt_published_total',
      help: 'messages published (QoS 1: acknowledged by the broker)',
      labelNames: ['kind'],
      registers,
    }),
    spoolDropped: new Counter({
      name: 'msta_mqtt_spool_dropped_total',
      help: 'events dropped from the spool: full (oldest dropped), rejected by the broker, unreadable record',
      labelNames: ['reason'],
      registers,
    }),
    scoresSkipped: new Counter({
      name: 'msta_mqtt_scores_skipped_total',
      help: 'per-clip scores not published (QoS 0) because the broker was unreachable or the socket backed up',
      registers,
    }),
  };
}
