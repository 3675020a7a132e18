// One camera stream's pipeline (the whole camera, or one of its regions of interest): source ->
// that stream's frames -> sampled frames -> clips -> the shared scheduler (latest wins,
// round-robin across streams) -> model -> scores -> events. The ingest half lives as long as the
// camera; the recognition half is rebuilt when the labels or the model change, without touching
// the stream. A camera's streams share its one source (one connection, one decode).
// A failed inference fails that clip only (the model counts and logs it): the next clip runs.
// Recognition can be paused (an MQTT command): the stream goes on, sampled frames are dropped
// before any clip is built, so nothing is inferred.
import { concatMap, EMPTY, filter, from, Subject, takeUntil, tap, type Subscription } from 'rxjs';
import { clipMotion } from '../clip/clip-motion.js';
import type { Logger } from 'pino';
import type { ClipMetrics } from '../clip/clip-metrics.js';
import { Coverage } from '../clip/coverage.js';
import type { FairScheduler } from '../clip/fair-scheduler.js';
import { sampleFrames } from '../clip/sample-frames.js';
import { slidingClips } from '../clip/sliding-clips.js';
import type { VideoModel } from '../model/video-model.js';
import { actionEvents, type ActionEventOptions } from '../recognize/action-events.js';
import { scoreClips, type ClipScores } from '../recognize/score-clips.js';
import type { CameraSource } from '../source/camera-source.js';
import { streamKey, type ActionEvent, type CameraStatus, type Clip, type ClipEmbedding, type RecognitionState } from '../types.js';
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
  /** The camera's source; this runner takes the frames of its own region (Frame.region). */
  source: CameraSource;
  model: VideoModel;
  scheduler: FairScheduler<Clip, ClipEmbedding>;
  clipMetrics: ClipMetrics;
  log: Logger;
  /** The camera's status (one of a camera's runners reports it). */
  onStatus?(status: CameraStatus): void;
  onScores(scores: ClipScores, recognizer: Recognizer): void;
  onEvent(event: ActionEvent): void;
  onRecognitionState?(state: RecognitionState): void;
  /** Every clip's embedding as it leaves the model (the console scores its playground phrases on it). */
  onEmbedding?(embedding: ClipEmbedding): void;
}

/** Ticks of the coverage window (the daemon ticks every few seconds). */
const COVERAGE_TICKS = 12;

export class CameraRunner {
  private readonly stopping = new Subject<void>();
  /** Resolves when the ingest ends (a file played to its end, or stop()) and its clips are done. */
  ingestDone: Promise<void> = Promise.resolve();
  private ingestEnded: () => void = () => undefined;
  private stopRequested = false;
  /** Set once the ingest ended on its own (not by stop): a failure, or a file's end. */
  ended: { failed: boolean; reason: string } | undefined;
  private statusSub: Subscription | undefined;
  private paused = false;
  private recognition:
    | { input: Subject<ClipEmbedding>; sub: Subscription; recognizer: Recognizer; options: Omit<ActionEventOptions, 'labels'> }
    | undefined;
  private state: RecognitionState = 'idle';
  private streaming = false;
  private lastInference: 'none' | 'ok' | 'failed' = 'none';
  /** Sampled frames between clips now: the configured stride, or more when the model cannot keep up. */
  stride = 1;
  private coverageNow: Coverage | undefined;
  private readonly activeActions = new Set<string>();

  /** The model clips go to; swapped in place (setModel) when the bundle changes. */
  private model: VideoModel;
  /** The last clip submitted, and the last submitted before the latest model swap. */
  private lastSubmittedSeq = -1;
  private swapSeq = -1;

  /** The stream's key: the scheduler's, coverage alarms' and logs' (streamKey). */
  readonly stream: string;

  constructor(
    readonly camera: string,
    private readonly deps: CameraRunnerDeps,
    /** The region of interest this runner recognises; null for the whole camera. */
    readonly region: string | null = null,
  ) {
    this.model = deps.model;
    this.stream = streamKey(camera, region);
  }

  get recognitionState(): RecognitionState {
    return this.state;
  }

  /** Closes a coverage tick: clips inferred / clips wanted over the window; undefined with no frames. */
  tickCoverage(): number | undefined {
    return this.coverageNow?.tick();
  }

  start(clip: ClipSettings): void {
    const { source, scheduler, clipMetrics, log } = this.deps;
    const m = this.model.bundle.manifest;
    this.stride = clip.stride;
    const coverage = new Coverage({ wantedStride: clip.stride, windowTicks: COVERAGE_TICKS });
    this.coverageNow = coverage;
    this.statusSub = source.status.subscribe((s) => {
      this.streaming = s.state === 'streaming';
      // No clips come while a camera is down: end its action now rather than leave it hanging.
      if (!this.streaming && this.recognition) this.setRecognizer(this.recognition.recognizer, this.recognition.options);
      this.updateState();
      this.deps.onStatus?.(s);
    });
    const handlers = {
      result: (embedding: ClipEmbedding) => {
        // A clip submitted before a model swap may come from the old model, whose embeddings live
        // in another space: dropped rather than scored against the new labels.
        if (embedding.clip.seq <= this.swapSeq) return clipMetrics.drop(this.camera, this.region, 'model_swapped');
        coverage.inferred();
        this.lastInference = 'ok';
        this.updateState();
        this.deps.onEmbedding?.(embedding);
        // A clip that was in inference when recognition was paused starts nothing.
        if (!this.paused) this.recognition?.input.next(embedding);
      },
      // Counted and logged (once per burst) by the model; the camera goes on with its next clip.
      failed: () => {
        this.lastInference = 'failed';
        this.updateState();
      },
      replaced: () => clipMetrics.drop(this.camera, this.region, 'replaced'),
    };
    // Offline (probe --offline): every clip in order, straight to the model; else the shared scheduler.
    const stream = clip.everyClip ? undefined : scheduler.add(this.stream, handlers);
    this.ingestDone = new Promise((resolve) => (this.ingestEnded = resolve));
    const finish = (): void => void (stream ? stream.end() : Promise.resolve()).then(() => this.ingestEnded());
    source.frames
      .pipe(
        // Stopping completes the stream rather than cutting it: the clip in inference finishes.
        takeUntil(this.stopping),
        filter((f) => f.region === this.region),
        sampleFrames(clip.frameIntervalMs),
        // Paused: no clip is built; the gap on resume starts a fresh window.
        filter(() => !this.paused),
        tap(() => coverage.sampled()),
        slidingClips(
          // A gap of a few intervals (a stall, a reconnect) starts a fresh window.
          { camera: this.camera, region: this.region, frames: m.frames, stride: clip.stride, width: m.width, height: m.height, maxGapMs: clip.frameIntervalMs * 4 },
          (reason) => clipMetrics.drop(this.camera, this.region, reason),
          () => this.stride,
        ),
        // Every clip made is counted; those replaced while waiting are a subset, dropped.
        tap(() => clipMetrics.clip(this.camera, this.region)),
        // Motion gate: a still clip is skipped, unless an action is active (its end needs clips).
        filter((c) => {
          if (clip.motionThreshold === undefined || this.activeActions.size > 0 || clipMotion(c) >= clip.motionThreshold) return true;
          clipMetrics.skip(this.camera, this.region, 'still');
          return false;
        }),
        concatMap((c) => {
          this.lastSubmittedSeq = c.seq;
          if (!stream) return from(this.model.embedClip(c).then(handlers.result, handlers.failed));
          stream.submit(c);
          return EMPTY;
        }),
      )
      .subscribe({
        error: (e: unknown) => {
          log.error({ camera: this.camera, region: this.region, err: (e as Error).message }, 'camera frames failed');
          this.ended = { failed: true, reason: (e as Error).message };
          finish();
        },
        complete: () => {
          if (!this.stopRequested) this.ended = { failed: false, reason: 'end of stream' };
          finish();
        },
      });
  }

  private updateState(): void {
    const next: RecognitionState = !this.streaming || this.paused
      ? 'paused'
      : this.lastInference === 'ok'
        ? 'recognizing'
        : this.lastInference === 'failed'
          ? 'failing'
          : 'idle';
    if (next === this.state) return;
    this.state = next;
    this.deps.onRecognitionState?.(next);
  }

  /** The recognizer and event options in use (undefined once stopped). */
  get recognizer(): Recognizer | undefined {
    return this.recognition?.recognizer;
  }

  get eventOptions(): Omit<ActionEventOptions, 'labels'> | undefined {
    return this.recognition?.options;
  }

  get recognizing(): boolean {
    return !this.paused;
  }

  /** Pauses (false) or resumes (true) recognition; pausing ends the active action (an `end` event). */
  setRecognitionEnabled(enabled: boolean): void {
    if (enabled === !this.paused) return;
    this.paused = !enabled;
    if (this.recognition) this.setRecognizer(this.recognition.recognizer, this.recognition.options);
    this.updateState();
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
        next: (event) => {
          if (event.type === 'start') this.activeActions.add(event.label);
          else if (event.type === 'end') this.activeActions.delete(event.label);
          this.deps.onEvent(event);
        },
        error: (e: unknown) => this.deps.log.error({ camera: this.camera, region: this.region, err: (e as Error).message }, 'recognition failed'),
      });
    this.recognition = { input, sub, recognizer, options };
  }

  /**
   * Moves to another model with the same input (frames, size, sampling): the stream goes on, the
   * next clips go to `model`, and recognition restarts with its labels (`recognizer`).
   */
  setModel(model: VideoModel, recognizer: Recognizer, options: Omit<ActionEventOptions, 'labels'>): void {
    this.model = model;
    this.swapSeq = this.lastSubmittedSeq;
    this.setRecognizer(recognizer, options);
  }

  /** Stops the source (its child process ends), lets the clip in inference finish, ends any active action. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.stopping.next();
    await this.ingestDone;
    this.statusSub?.unsubscribe();
    this.recognition?.input.complete();
    this.recognition = undefined;
  }
}
