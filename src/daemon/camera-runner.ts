// One camera's pipeline: source -> sampled frames -> clips -> model (latest wins) -> scores ->
// events. The ingest half lives as long as the camera; the recognition half is rebuilt when the
// labels change, without touching the stream. Recognition can be paused (an MQTT command): the
// stream goes on, sampled frames are dropped before any clip is built, so nothing is inferred.
import { concatMap, filter, Subject, takeUntil, tap, type Subscription } from 'rxjs';
import { clipMotion } from '../clip/clip-motion.js';
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
  /** Offline processing: every clip is inferred in order (none replaced while one runs). */
  everyClip?: boolean;
  /** Clips whose motion (clipMotion) stays below this are not inferred while no action is active; none when absent. */
  motionThreshold?: number;
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
  private paused = false;
  /** Labels with an action started and not yet ended, for the motion gate. */
  private readonly activeActions = new Set<string>();
  private recognition:
    | { input: Subject<ClipEmbedding>; sub: Subscription; recognizer: Recognizer; options: Omit<ActionEventOptions, 'labels'> }
    | undefined;

  constructor(
    readonly camera: string,
    private readonly deps: CameraRunnerDeps,
  ) {}

  start(clip: ClipSettings): void {
    const { source, model, clipMetrics, log } = this.deps;
    const m = model.bundle.manifest;
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
        // Paused: no clip is built; the gap on resume starts a fresh window.
        filter(() => !this.paused),
        slidingClips(
          // A gap of a few intervals (a stall, a reconnect) starts a fresh window.
          { camera: this.camera, frames: m.frames, stride: clip.stride, width: m.width, height: m.height, maxGapMs: clip.frameIntervalMs * 4 },
          (reason) => clipMetrics.drop(this.camera, reason),
        ),
        // Every clip made is counted; those replaced while waiting are a subset, dropped.
        tap(() => clipMetrics.clip(this.camera)),
        // Motion gate: a still clip is skipped, unless an action is active (its end needs clips).
        filter((c) => {
          if (clip.motionThreshold === undefined || this.activeActions.size > 0 || clipMotion(c) >= clip.motionThreshold) return true;
          clipMetrics.skip(this.camera, 'still');
          return false;
        }),
        clip.everyClip ? concatMap((c) => model.embedClip(c)) : latestWins((c) => model.embedClip(c), () => clipMetrics.drop(this.camera, 'replaced')),
      )
      .subscribe({
        // A clip that was in inference when recognition was paused starts nothing.
        next: (embedding) => {
          if (!this.paused) this.recognition?.input.next(embedding);
        },
        error: (e: unknown) => {
          log.error({ camera: this.camera, err: (e as Error).message }, 'camera pipeline failed');
          this.ingestEnded();
        },
        complete: () => this.ingestEnded(),
      });
  }

  get recognizing(): boolean {
    return !this.paused;
  }

  /** Pauses (false) or resumes (true) recognition; pausing ends the active action (an `end` event). */
  setRecognitionEnabled(enabled: boolean): void {
    if (enabled === !this.paused) return;
    this.paused = !enabled;
    if (this.recognition) this.setRecognizer(this.recognition.recognizer, this.recognition.options);
  }

  /** Swaps the label set: the old recognition ends its active action (an `end` event) first. */
  setRecognizer(recognizer: Recognizer, options: Omit<ActionEventOptions, 'labels'>): void {
    this.recognition?.input.complete();
    const input = new Subject<ClipEmbedding>();
    const labels = recognizer.set.labels.map((l) => (l.threshold === undefined ? { name: l.name } : { name: l.name, threshold: l.threshold }));
    const sub = input
      .pipe(
        scoreClips(recognizer.embeds, this.deps.model.bundle.manifest.logit_scale),
        tap((scores) => this.deps.onScores(scores, recognizer)),
        actionEvents({ ...options, labels }),
      )
      .subscribe({
        next: (event) => {
          if (event.type === 'start') this.activeActions.add(event.label);
          else if (event.type === 'end') this.activeActions.delete(event.label);
          this.deps.onEvent(event);
        },
        error: (e: unknown) => this.deps.log.error({ camera: this.camera, err: (e as Error).message }, 'recognition failed'),
      });
    this.recognition = { input, sub, recognizer, options };
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
