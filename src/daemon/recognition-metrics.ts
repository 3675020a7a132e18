import { Gauge, type Registry } from 'prom-client';
import { RECOGNITION_STATES, type RecognitionState } from '../types.js';

export interface RecognitionMetrics {
  state(camera: string, state: RecognitionState): void;
  coverage(camera: string, ratio: number): void;
  stride(camera: string, stride: number): void;
  /** A camera removed: its series go. */
  remove(camera: string): void;
}

/** Per-camera recognition: its state, its coverage and its clip stride (the daemon wires cameras to the model). */
export function registerRecognitionMetrics(registry: Registry): RecognitionMetrics {
  const state = new Gauge({
    name: 'msta_camera_recognition_state',
    help: "1 for a camera's current recognition state: idle (no clip inferred yet), recognizing, failing (its last clip failed), paused (source not streaming)",
    labelNames: ['camera', 'state'],
    registers: [registry],
  });
  const coverage = new Gauge({
    name: 'msta_camera_coverage_ratio',
    help: 'Clips inferred / clips wanted (at the configured stride) over the last minute',
    labelNames: ['camera'],
    registers: [registry],
  });
  const stride = new Gauge({
    name: 'msta_camera_clip_stride',
    help: 'Sampled frames between clips now (raised above recognition.stride when the model cannot keep up)',
    labelNames: ['camera'],
    registers: [registry],
  });
  return {
    state(camera, s) {
      for (const k of RECOGNITION_STATES) state.set({ camera, state: k }, k === s ? 1 : 0);
    },
    coverage: (camera, ratio) => coverage.set({ camera }, ratio),
    stride: (camera, n) => stride.set({ camera }, n),
    remove(camera) {
      for (const k of RECOGNITION_STATES) state.remove({ camera, state: k });
      coverage.remove({ camera });
      stride.remove({ camera });
    },
  };
}
