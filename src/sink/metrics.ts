// The sink's Prometheus metrics, registered on the registry the daemon passes in. Every labelled
// counter starts with a 0 sample for each known label value, so increase() and rate() alerts see
// the series before its first increment.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';

export const PUBLISH_KINDS = ['event', 'status', 'state', 'scores', 'discovery', 'snapshot'] as const;
/** What became of a command received on a `.../set` topic. */
export const COMMAND_RESULTS = ['accepted', 'bad_payload', 'unknown_camera', 'retained'] as const;
export type CommandResult = (typeof COMMAND_RESULTS)[number];
export type PublishKind = (typeof PUBLISH_KINDS)[number];
/** full: oldest dropped for room; rejected: refused by the broker; unreadable / corrupt: moved to bad/. */
export const SPOOL_DROP_REASONS = ['full', 'rejected', 'unreadable', 'corrupt'] as const;
export type SpoolDropReason = (typeof SPOOL_DROP_REASONS)[number];
/** Why an event that could not be spooled was lost (never delivered). */
export const EVENT_LOST_REASONS = ['no_space', 'not_writable', 'write_failed'] as const;
export type EventLostReason = (typeof EVENT_LOST_REASONS)[number];

export interface SinkMetrics {
  connected: Gauge;
  spoolMessages: Gauge;
  spoolBytes: Gauge;
  published: Counter<'kind'>;
  eventAck: Histogram;
  spoolDropped: Counter<'reason'>;
  eventsLost: Counter<'reason'>;
  scoresSkipped: Counter;
  commands: Counter<'result'>;
}

export function sinkMetrics(registry: Registry): SinkMetrics {
  const registers = [registry];
  const m: SinkMetrics = {
    connected: new Gauge({ name: 'msta_mqtt_connected', help: '1 while connected to the MQTT broker', registers }),
    spoolMessages: new Gauge({ name: 'msta_mqtt_spool_messages', help: 'events in the on-disk spool, not yet acknowledged', registers }),
    spoolBytes: new Gauge({ name: 'msta_mqtt_spool_bytes', help: 'bytes of events in the on-disk spool', registers }),
    published: new Counter({
      name: 'msta_mqtt_published_total',
      help: 'messages published (QoS 1: acknowledged by the broker)',
      labelNames: ['kind'],
      registers,
    }),
    // The broker's part of an event's way: a slow acknowledgement holds spool records, not events.
    eventAck: new Histogram({
      name: 'msta_mqtt_event_ack_seconds',
      help: "From an event handed to the broker's connection to its PUBACK",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    spoolDropped: new Counter({
      name: 'msta_mqtt_spool_dropped_total',
      help: 'events dropped from the spool: full (oldest dropped), rejected by the broker, unreadable or corrupt record (moved to bad/)',
      labelNames: ['reason'],
      registers,
    }),
    eventsLost: new Counter({
      name: 'msta_mqtt_events_lost_total',
      help: 'events that could not be spooled and were not delivered: no_space, not_writable, write_failed',
      labelNames: ['reason'],
      registers,
    }),
    scoresSkipped: new Counter({
      name: 'msta_mqtt_scores_skipped_total',
      help: 'per-clip scores not published (QoS 0) because the broker was unreachable or the socket backed up',
      registers,
    }),
    commands: new Counter({
      name: 'msta_mqtt_commands_total',
      help: 'commands received over MQTT: accepted, or ignored as bad_payload, unknown_camera or retained',
      labelNames: ['result'],
      registers,
    }),
  };
  zeroSeries(m.published, { kind: PUBLISH_KINDS });
  zeroSeries(m.spoolDropped, { reason: SPOOL_DROP_REASONS });
  zeroSeries(m.eventsLost, { reason: EVENT_LOST_REASONS });
  zeroSeries(m.commands, { result: COMMAND_RESULTS });
  return m;
}
