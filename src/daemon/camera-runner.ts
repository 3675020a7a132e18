// One camera's pipeline: source -> sampled frames -> clips -> model (latest wins) -> scores ->
// events. The ingest half lives as long as the camera; the recognition half is rebuilt when the
// labels or the model change, without touching the stream.
import { Subject, takeUntil, tap, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { ClipMetrics } from '../clip/clip-metrics.js';
import { latestWins } from '../clip/latest-wins.js';
import { sampleFrames } from '../clip/sample-frames.js';
import { slidingClips } from '../clip/sliding-clips.js';
import type { VideoModel } from '../model/video-model.js';
import { actionEvents, type ActionEventOptions } from '../recognize/action-events.js';
import { scoreClips, type ClipScores } from '../recognize/score-clips.js';
import type { CameraSource } from '../source/camera-source.js';
import type { ActionEvent, CameraStatus, ClipEmbedding } from '../types.js';
import type { Recognizer } from './recognizer.js';

export interface ClipSettings {
  frameIntervalMs: number;
  stride: number;
}

export interface CameraRunnerDeps {
  source: CameraSource;
  model: VideoModel;
  clipMetrics: ClipMetrics;
  log: Logger;
  onStatus(status: CameraStatus): void;
  onScores(scores: ClipScores, recognizer: Recognizer): void;
  onEvent(event: ActionEvent): void;
}

export class CameraRunner {
  private readonly stopping = new Subject<void>();
  /** Resolves when the ingest ends: a file played to its end, or stop(). */
  ingestDone: Promise<void> = Promise.resolve();
  private ingestEnded: () => void = () => undefined;
  private statusSub: Subscription | undefined;
  private recognition:
    | { input: Subject<ClipEmbedding>; sub: Subscription; recognizer: Recognizer; options: Omit<ActionEventOptions, 'labels'> }
    | undefined;

  /** The model clips go to; swapped in place (setModel) when the bundle changes. */
  private model: VideoModel;

  constructor(
    readonly camera: string,
    private readonly deps: CameraRunnerDeps,
  ) {
    this.model = deps.model;
  }

  start(clip: ClipSettings): void {
    const { source, clipMetrics, log } = this.deps;
    const m = this.model.bundle.manifest;
    this.statusSub = source.status.subscribe((s) => {
      // No clips come while a camera is down: end its action now rather than leave it hanging.
      if (s.state !== 'streaming' && this.recognition) this.setRecognizer(this.recognition.recognizer, this.recognition.options);
      this.deps.onStatus(s);
    });
    this.ingestDone = new Promise((resolve) => (this.ingestEnded = resolve));
    source.frames
      .pipe(
        // Stopping completes the stream rather than cutting it: the clip in inference finishes.
        takeUntil(this.stopping),
        sampleFrames(clip.frameIntervalMs),
        slidingClips(
          // A gap of a few intervals (a stall, a reconnect) starts a fresh window.
          { camera: this.camera, frames: m.frames, stride: clip.stride, width: m.width, height: m.height, maxGapMs: clip.frameIntervalMs * 4 },
          (reason) => clipMetrics.drop(this.camera, reason),
        ),
        // Every clip made is counted; those replaced while waiting are a subset, dropped.
        tap(() => clipMetrics.clip(this.camera)),
        latestWins((c) => {
          const used = this.model;
          return used.embedClip(c).then((embedding) => ({ embedding, used }));
        }, () => clipMetrics.drop(this.camera, 'replaced')),
      )
      .subscribe({
        next: ({ embedding, used }) => {
          // A clip embedded by the model just swapped out lives in the other model's space.
          if (used === this.model) this.recognition?.input.next(embedding);
          else clipMetrics.drop(this.camera, 'model_swapped');
        },
        error: (e: unknown) => {
          log.error({ camera: this.camera, err: (e as Error).message }, 'camera pipeline failed');
          this.ingestEnded();
        },
        complete: () => this.ingestEnded(),
      });
  }

  /** Swaps the label set: the old recognition ends its active action (an `end` event) first. */
  setRecognizer(recognizer: Recognizer, options: Omit<ActionEventOptions, 'labels'>): void {
    this.recognition?.input.complete();
    const input = new Subject<ClipEmbedding>();
    const labels = recognizer.set.labels.map((l) => (l.threshold === undefined ? { name: l.name } : { name: l.name, threshold: l.threshold }));
    const sub = input
      .pipe(
        scoreClips(recognizer.embeds, this.model.bundle.manifest.logit_scale),
        tap((scores) => this.deps.onScores(scores, recognizer)),
        actionEvents({ ...options, labels }),
      )
      .subscribe({
        next: (event) => this.deps.onEvent(event),
        error: (e: unknown) => this.deps.log.error({ camera: this.camera, err: (e as Error).message }, 'recognition failed'),
      });
    this.recognition = { input, sub, recognizer, options };
  }

  /**
   * Moves to another model with the same input (frames, size, sampling): the stream goes on, the
   * next clips go to `model`, and recognition restarts with its labels (`recognizer`).
   */
  setModel(model: VideoModel, recognizer: Recognizer, options: Omit<ActionEventOptions, 'labels'>): void {
    this.model = model;
    this.setRecognizer(recognizer, options);
  }

  /** Stops the source (its child process ends), lets the clip in inference finish, ends any active action. */
  async stop(): Promise<void> {
    this.stopping.next();
    await this.ingestDone;
    this.statusSub?.unsubscribe();
    this.recognition?.input.complete();
    this.recognition = undefined;
  }
}
