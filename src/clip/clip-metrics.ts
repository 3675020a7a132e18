import { Counter, type Registry } from 'prom-client';
import type { DropReason } from '../types.js';

export interface ClipMetrics {
  clip(camera: string): void;
  drop(camera: string, reason: DropReason): void;
  /** A clip not inferred on purpose (`still`: no motion above the gate's threshold). */
  skip(camera: string, reason: 'still'): void;
}

/** msta_clips_total, msta_clips_dropped_total and msta_clips_skipped_total, registered on the given registry. */
export function registerClipMetrics(registry: Registry): ClipMetrics {
  const clips = new Counter({ name: 'msta_clips_total', help: 'Clips made', labelNames: ['camera'], registers: [registry] });
  const dropped = new Counter({
    name: 'msta_clips_dropped_total',
    help: 'Frames or clips dropped before inference, by reason',
    labelNames: ['camera', 'reason'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'msta_clips_skipped_total',
    help: 'Clips not inferred on purpose, by reason (still: no motion above recognition.motion_gate.threshold)',
    labelNames: ['camera', 'reason'],
    registers: [registry],
  });
  return {
    clip: (camera) => clips.inc({ camera }),
    drop: (camera, reason) => dropped.inc({ camera, reason }),
    skip: (camera, reason) => skipped.inc({ camera, reason }),
  };
}
