import { Counter, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import type { DropReason } from '../types.js';

/** The reasons the clip stage drops for (DropReason's clip-side values). */
export const CLIP_DROP_REASONS = ['replaced', 'size_mismatch', 'stale'] as const satisfies readonly DropReason[];

export interface ClipMetrics {
  /** Creates the camera's series at 0 (for increase() and rate() before the first clip or drop). */
  camera(camera: string): void;
  clip(camera: string): void;
  drop(camera: string, reason: DropReason): void;
}

/** msta_clips_total and msta_clips_dropped_total, registered on the given registry. */
export function registerClipMetrics(registry: Registry): ClipMetrics {
  const clips = new Counter({ name: 'msta_clips_total', help: 'Clips made', labelNames: ['camera'], registers: [registry] });
  const dropped = new Counter({
    name: 'msta_clips_dropped_total',
    help: 'Frames or clips dropped before inference, by reason',
    labelNames: ['camera', 'reason'],
    registers: [registry],
  });
  return {
    camera(camera) {
      zeroSeries(clips, { camera: [camera] });
      zeroSeries(dropped, { camera: [camera], reason: CLIP_DROP_REASONS });
    },
    clip: (camera) => clips.inc({ camera }),
    drop: (camera, reason) => dropped.inc({ camera, reason }),
  };
}
