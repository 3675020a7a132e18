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
  private stride: number;

  constructor(
    private readonly model: () => VideoModel,
    private readonly metrics: RecognitionMetrics,
    private readonly log: Logger,
    private readonly options: RecognitionControlOptions,
  ) {
    this.stride = options.strideFloor;
  }

  /** Adapts every camera's stride to the model's capacity, then updates and checks each one's coverage. */
  tick(runners: CameraRunner[]): void {
    const capacity = this.model().capacity();
    const stride = adaptStride({
      cameras: runners.length,
      framesPerSecond: 1000 / this.options.frameIntervalMs,
      capacity,
      floor: this.options.strideFloor,
      ceiling: this.options.strideCeiling,
      utilisation: UTILISATION,
    });
    if (stride !== this.stride) {
      this.log.info({ stride, was: this.stride, cameras: runners.length, capacity_clips_per_s: Number((capacity ?? 0).toFixed(3)) }, 'clip stride adapted to the model capacity');
      this.stride = stride;
    }
    for (const runner of runners) {
      runner.stride = stride;
      this.metrics.stride(runner.camera, runner.region, stride);
      const ratio = runner.tickCoverage();
      if (ratio !== undefined) this.metrics.coverage(runner.camera, runner.region, ratio);
      let alarm = this.alarms.get(runner.stream);
      if (!alarm) this.alarms.set(runner.stream, (alarm = new CoverageAlarm(this.options.warnBelow)));
      const change = alarm.update(ratio);
      const fields = { camera: runner.camera, ...(runner.region !== null ? { region: runner.region } : {}), coverage: Number((ratio ?? 0).toFixed(3)), threshold: this.options.warnBelow, stride };
      if (change === 'low') this.log.warn(fields, 'coverage low: the model infers fewer clips than wanted (add workers or hardware, or fewer cameras)');
      else if (change === 'recovered') this.log.info(fields, 'coverage recovered');
    }
  }

  /** A stream removed (its camera removed or changed): its alarm and series go. */
  forget(camera: string, region: string | null): void {
    this.alarms.delete(streamKey(camera, region));
    this.metrics.remove(camera, region);
  }
}
