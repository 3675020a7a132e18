// The source stage's Prometheus metrics, on the registry the daemon gives it. Labels are camera
// ids, never URLs (URLs carry passwords).
import { Counter, Gauge, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import type { DropReason } from '../types.js';

export interface SourceMetrics {
  frames: Counter<'camera'>;
  dropped: Counter<'camera' | 'reason'>;
  reconnects: Counter<'camera'>;
  up: Gauge<'camera'>;
  snapshots: Counter<'camera'>;
}

/** The reasons the source drops frames for. */
export const SOURCE_DROP_REASONS = ['overflow', 'size_mismatch'] as const satisfies readonly DropReason[];

/** Creates a camera's labelled counters at 0 (for increase() and rate() before the first increment). */
export function zeroCameraSeries(m: SourceMetrics, camera: string): void {
  zeroSeries(m.frames, { camera: [camera] });
  zeroSeries(m.reconnects, { camera: [camera] });
  zeroSeries(m.snapshots, { camera: [camera] });
  zeroSeries(m.dropped, { camera: [camera], reason: SOURCE_DROP_REASONS });
}

const cache = new WeakMap<Registry, SourceMetrics>();

/** The metrics on `registry`, created on first use (every camera of a daemon shares them). */
export function sourceMetrics(registry: Registry): SourceMetrics {
  let m = cache.get(registry);
  if (!m) {
    const registers = [registry];
    m = {
      frames: new Counter({ name: 'msta_source_frames_total', help: 'Frames delivered to the parent by the camera pipeline (after its rate limit to the sampling interval; frames it drops by rate are not counted, nor errors).', labelNames: ['camera'], registers }),
      dropped: new Counter({
        name: 'msta_source_frames_dropped_total',
        help: 'Frames the source dropped, by reason (overflow: the daemon was behind the camera).',
        labelNames: ['camera', 'reason'],
        registers,
      }),
      reconnects: new Counter({ name: 'msta_source_reconnects_total', help: 'Reconnects to the camera (new pipelines after the first).', labelNames: ['camera'], registers }),
      up: new Gauge({ name: 'msta_source_up', help: '1 while the camera streams frames, else 0.', labelNames: ['camera'], registers }),
      snapshots: new Counter({ name: 'msta_source_snapshots_total', help: 'JPEGs the camera pipeline encoded and delivered (only while snapshots are enabled or someone watches the camera live).', labelNames: ['camera'], registers }),
    };
    cache.set(registry, m);
  }
  return m;
}
