// Shares the model between cameras when it is the bottleneck: one fair scheduler for every
// camera's clips, the clip stride adapted to the measured capacity, and coverage watched.
import type { Logger } from 'pino';
import { adaptStride } from '../clip/adapt-stride.js';
import { CoverageAlarm } from '../clip/coverage.js';
import { FairScheduler } from '../clip/fair-scheduler.js';
import type { VideoModel } from '../model/video-model.js';
import { streamKey, type Clip, type ClipEmbedding } from '../types.js';
import type { CameraRunner } from './camera-runner.js';
import type { RecognitionMetrics } from './recognition-metrics.js';

/**
 * Every camera's clips through one scheduler onto `model()` (the model in use, also after a swap),
 * with room for every worker's pipeline of batches.
 */
export function clipScheduler(model: () => VideoModel): FairScheduler<Clip, ClipEmbedding> {
  const { workers, maxBatch, pipeline } = model().settings;
  return new FairScheduler((clip) => model().embedClip(clip), { slots: pipeline * workers * maxBatch });
}

/** One camera's limits (its own recognition settings, merged over the global ones). */
export interface RecognitionControlOptions {
  /** The configured stride (the clips wanted) and the most it may be raised to. */
  strideFloor: number;
  strideCeiling: number;
  frameIntervalMs: number;
  /** Warn once when a camera's coverage falls below this. */
  warnBelow: number;
}

/** Plan for this share of the measured capacity, so that clips rarely wait. */
const UTILISATION = 0.9;

export class RecognitionControl {
  private readonly alarms = new Map<string, CoverageAlarm>();
  private readonly strides = new Map<string, number>();

  constructor(
    private readonly model: () => VideoModel,
    private readonly metrics: RecognitionMetrics,
    private readonly log: Logger,
    /** A camera stream's options: its camera, and its region (null for the whole camera). */
    private readonly optionsOf: (camera: string, region: string | null) => RecognitionControlOptions,
  ) {}

  /**
   * Adapts every camera's stride to the model's capacity (shared evenly; each camera within its own
   * floor and ceiling), then updates and checks each one's coverage.
   */
  tick(runners: CameraRunner[]): void {
    const capacity = this.model().capacity();
    const changed: Record<string, { stride: number; was: number }> = {};
    for (const runner of runners) {
      const options = this.optionsOf(runner.camera, runner.region);
      const stride = adaptStride({
        cameras: runners.length,
        framesPerSecond: 1000 / options.frameIntervalMs,
        capacity,
        floor: options.strideFloor,
        ceiling: options.strideCeiling,
        utilisation: UTILISATION,
      });
      const was = this.strides.get(runner.stream) ?? options.strideFloor;
      if (stride !== was) changed[runner.stream] = { stride, was };
      this.strides.set(runner.stream, stride);
      runner.stride = stride;
      this.metrics.stride(runner.camera, runner.region, stride);
      const ratio = runner.tickCoverage();
      if (ratio !== undefined) this.metrics.coverage(runner.camera, runner.region, ratio);
      let alarm = this.alarms.get(runner.stream);
      if (!alarm) this.alarms.set(runner.stream, (alarm = new CoverageAlarm(options.warnBelow)));
      const change = alarm.update(ratio);
      const fields = { camera: runner.camera, ...(runner.region !== null ? { region: runner.region } : {}), coverage: Number((ratio ?? 0).toFixed(3)), threshold: options.warnBelow, stride };
      if (change === 'low') this.log.warn(fields, 'coverage low: the model infers fewer clips than wanted (add workers or hardware, or fewer cameras)');
      else if (change === 'recovered') this.log.info(fields, 'coverage recovered');
    }
    // One line per tick for all the cameras whose stride moved.
    const moved = Object.values(changed);
    if (moved.length > 0) {
      const strides = Object.fromEntries(Object.entries(changed).map(([camera, s]) => [camera, s.stride]));
      this.log.info({ stride: moved[0]!.stride, was: moved[0]!.was, strides, cameras: runners.length, capacity_clips_per_s: Number((capacity ?? 0).toFixed(3)) }, 'clip stride adapted to the model capacity');
    }
  }

  /** A stream removed (its camera removed or changed): its alarm, stride and series go. */
  forget(camera: string, region: string | null): void {
    const stream = streamKey(camera, region);
    this.alarms.delete(stream);
    this.strides.delete(stream);
    this.metrics.remove(camera, region);
  }
}
