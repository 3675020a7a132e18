import { Gauge, type Registry } from 'prom-client';
import { RECOGNITION_STATES, type RecognitionState } from '../types.js';

/** Per stream: `camera` and `region` (the region of interest's name, "" for the whole camera). */
export interface RecognitionMetrics {
  state(camera: string, region: string | null, state: RecognitionState): void;
  coverage(camera: string, region: string | null, ratio: number): void;
  stride(camera: string, region: string | null, stride: number): void;
  /** A stream removed: its series go. */
  remove(camera: string, region: string | null): void;
}

/** Per-stream recognition: its state, its coverage and its clip stride (the daemon wires cameras to the model). */
export function registerRecognitionMetrics(registry: Registry): RecognitionMetrics {
  const state = new Gauge({
    name: 'msta_camera_recognition_state',
    help: "1 for a camera's current recognition state: idle (no clip inferred yet), recognizing, failing (its last clip failed), paused (source not streaming)",
    labelNames: ['camera', 'region', 'state'],
    registers: [registry],
  });
  const coverage = new Gauge({
    name: 'msta_camera_coverage_ratio',
    help: 'Clips inferred / clips wanted (at the configured stride) over the last minute',
    labelNames: ['camera', 'region'],
    registers: [registry],
  });
  const stride = new Gauge({
    name: 'msta_camera_clip_stride',
    help: 'Sampled frames between clips now (raised above recognition.stride when the model cannot keep up)',
    labelNames: ['camera', 'region'],
    registers: [registry],
  });
  return {
    state(camera, region, s) {
      for (const k of RECOGNITION_STATES) state.set({ camera, region: region ?? '', state: k }, k === s ? 1 : 0);
    },
    coverage: (camera, region, ratio) => coverage.set({ camera, region: region ?? '' }, ratio),
    stride: (camera, region, n) => stride.set({ camera, region: region ?? '' }, n),
    remove(camera, region) {
      const r = region ?? '';
      for (const k of RECOGNITION_STATES) state.remove({ camera, region: r, state: k });
      coverage.remove({ camera, region: r });
      stride.remove({ camera, region: r });
    },
  };
}
