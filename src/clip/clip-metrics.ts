import { Counter, type Registry } from 'prom-client';
import { zeroSeries } from '../metric-series.js';
import type { DropReason } from '../types.js';

/** The reasons the clip stage drops for (DropReason's clip-side values). */
export const CLIP_DROP_REASONS = ['replaced', 'size_mismatch', 'stale'] as const satisfies readonly DropReason[];

/**
 * Series are per stream: `camera`, and `region` (the region of interest's name, "" for the whole
 * camera), so a camera's regions can be told apart and summed.
 */
export interface ClipMetrics {
  /** Creates the stream's series at 0 (for increase() and rate() before the first clip or drop). */
  camera(camera: string, region?: string | null): void;
  clip(camera: string, region: string | null): void;
  drop(camera: string, region: string | null, reason: DropReason): void;
  /** A clip not inferred on purpose (`still`: no motion above the gate's threshold). */
  skip(camera: string, region: string | null, reason: 'still'): void;
}

/** msta_clips_total, msta_clips_dropped_total and msta_clips_skipped_total, registered on the given registry. */
export function registerClipMetrics(registry: Registry): ClipMetrics {
  const clips = new Counter({ name: 'msta_clips_total', help: 'Clips made', labelNames: ['camera', 'region'], registers: [registry] });
  const dropped = new Counter({
    name: 'msta_clips_dropped_total',
    help: 'Frames or clips dropped before inference, by reason',
    labelNames: ['camera', 'region', 'reason'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'msta_clips_skipped_total',
    help: 'Clips not inferred on purpose, by reason (still: no motion above recognition.motion_gate.threshold)',
    labelNames: ['camera', 'region', 'reason'],
    registers: [registry],
  });
  return {
    camera(camera, region = null) {
      zeroSeries(clips, { camera: [camera], region: [region ?? ''] });
      zeroSeries(dropped, { camera: [camera], region: [region ?? ''], reason: CLIP_DROP_REASONS });
    },
    clip: (camera, region) => clips.inc({ camera, region: region ?? '' }),
    drop: (camera, region, reason) => dropped.inc({ camera, region: region ?? '', reason }),
    skip: (camera, region, reason) => skipped.inc({ camera, region: region ?? '', reason }),
  };
}
