// A camera as Observables: frames (subscribing starts its child, unsubscribing stops it) and
// status. Metrics and logs are this stage's side effects, at the edge.
import { BehaviorSubject, distinctUntilChanged, filter, finalize, map, share, Subject, tap, type Observable, type SchedulerLike } from 'rxjs';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';
import type { CameraStatus, Frame, Snapshot } from '../types.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { ChildRequest } from './child-protocol.js';
import { runSourceChild, type ChildEvent, type ChildOptions } from './child-process.js';
import { WHOLE_CAMERA, type FrameStream, type Transport } from './pipeline-description.js';
import type { SnapshotMask } from './snapshot-branch.js';
import { MAX_STREAMS } from './frame-record.js';
import { sourceMetrics, zeroCameraSeries } from './source-metrics.js';
import { scrubSecrets } from './secrets.js';
import { parseSourceUrl } from '../source-url.js';
import { supervise, type SourceEvent } from './supervise.js';

export interface CameraSourceOptions {
  /** Camera id: Frame.camera, metrics label, logs. */
  camera: string;
  /** rtsp(s)://, file:///path or a path, v4l2:///dev/videoN or /dev/videoN, test://<pattern>[?fps=N]. */
  url: string;
  /** Output size of every stream. */
  width: number;
  height: number;
  /**
   * The frame streams from the one decode: the whole camera (centre-cropped or letterboxed) or its
   * regions, each with its masks. Default: the whole camera, centre-cropped.
   */
  streams?: FrameStream[];
  /** RTSP transport (default tcp). */
  transport?: Transport;
  /** RTSP jitter-buffer latency in ms (default 200). */
  latencyMs?: number;
  /** `auto` (default), `software`, or a GStreamer decoder element name. */
  decoder?: string;
  /** Drop frames above this rate (integer fps; default: camera rate). */
  maxFps?: number;
  /** The clip sampler's interval: only about one frame per interval reaches the parent (default: every frame). */
  sampleIntervalMs?: number;
  /** Files: play again from the start at the end (default false). */
  loop?: boolean;
  /** Files: pace at the file's rate (default true); false = every frame, as fast as taken. */
  realtime?: boolean;
  /** No frame for this long = stalled: the child is killed and the camera reconnects (default 10 s). */
  stallTimeoutMs?: number;
  /** A child asked to stop is killed after this long (default 3 s). */
  stopTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /**
   * The JPEG branch (none when absent): JPEGs of the whole frame, `width` wide at most, `fps` a
   * second at most; encoded all the time when `enabled`, otherwise only while setLiveSnapshots(true).
   */
  /** JPEGs of the whole frame, with the camera's masks painted on (`masks`). */
  snapshots?: { enabled: boolean; width: number; quality: number; fps: number; masks?: SnapshotMask[] };
}

/** pino-compatible. */
export interface SourceLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CameraSourceDeps {
  /** Metrics go here (msta_source_*); none when absent. */
  registry?: Registry;
  log?: SourceLog;
  scheduler?: SchedulerLike;
  random?: () => number;
  /** Starts one connection; the real child process by default. */
  connect?: (request: ChildRequest, options: ChildOptions) => Observable<ChildEvent>;
}

export interface CameraSource {
  frames: Observable<Frame>;
  /** The current status first, then every change. */
  status: Observable<CameraStatus>;
  /** JPEGs while they are encoded (hot: they come while `frames` is subscribed). */
  snapshots: Observable<Snapshot>;
  /** Someone watches the camera live (true) or nobody does: JPEGs are encoded while so, or while snapshots are enabled. */
  setLiveSnapshots(on: boolean): void;
  /** Drops and reconnects so far, for summaries (metrics have them too). */
  counts(): { frames: number; dropped: number; reconnects: number };
}

function positiveInt(value: number, what: string, camera: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new MstaError('CONFIG_INVALID', `${what} must be a positive integer, got ${value}`, { where: `camera ${camera}` });
  return value;
}

/** Checks the options (SOURCE_URL_INVALID, CONFIG_INVALID) and returns the camera, not yet started. */
export function cameraSource(options: CameraSourceOptions, deps: CameraSourceDeps = {}): CameraSource {
  const { camera } = options;
  const spec = parseSourceUrl(options.url);
  positiveInt(options.width, 'width', camera);
  positiveInt(options.height, 'height', camera);
  if (options.maxFps !== undefined) positiveInt(options.maxFps, 'maxFps', camera);
  if (options.sampleIntervalMs !== undefined && !(options.sampleIntervalMs > 0)) {
    throw new MstaError('CONFIG_INVALID', `sampleIntervalMs must be positive, got ${options.sampleIntervalMs}`, { where: `camera ${camera}` });
  }
  const streams = options.streams ?? [WHOLE_CAMERA];
  if (streams.length === 0 || streams.length > MAX_STREAMS) {
    throw new MstaError('CONFIG_INVALID', `a camera has 1 to ${MAX_STREAMS} frame streams, got ${streams.length}`, { where: `camera ${camera}` });
  }
  const request: ChildRequest = {
    url: options.url,
    width: options.width,
    height: options.height,
    streams,
    transport: options.transport ?? 'tcp',
    latencyMs: options.latencyMs ?? 200,
    decoder: options.decoder ?? 'auto',
    ...(options.maxFps !== undefined ? { maxFps: options.maxFps } : {}),
    ...(options.sampleIntervalMs !== undefined ? { sampleIntervalMs: options.sampleIntervalMs } : {}),
    realtime: options.realtime ?? true,
    loop: options.loop ?? false,
  };
  const snap = options.snapshots;
  if (snap) {
    positiveInt(snap.width, 'snapshots.width', camera);
    positiveInt(snap.fps, 'snapshots.fps', camera);
    if (!Number.isInteger(snap.quality) || snap.quality < 1 || snap.quality > 100) {
      throw new MstaError('CONFIG_INVALID', `snapshots.quality must be an integer 1-100, got ${snap.quality}`, { where: `camera ${camera}` });
    }
  }
  const live = new BehaviorSubject(false);
  const encoding = live.pipe(map((on) => (snap?.enabled ?? false) || on), distinctUntilChanged());
  const stopTimeoutMs = options.stopTimeoutMs ?? 3000;
  const connect = deps.connect ?? runSourceChild;
  // Each connection starts with the valve as wanted now; changes follow as commands.
  const connectNow = (): Observable<ChildEvent> => {
    const r: ChildRequest = snap ? { ...request, snapshots: { width: snap.width, quality: snap.quality, fps: snap.fps, encoding: snap.enabled || live.getValue(), ...(snap.masks?.length ? { masks: snap.masks } : {}) } } : request;
    return connect(r, { stopTimeoutMs, snapshotEncoding: encoding });
  };
  const snapshots = new Subject<Snapshot>();
  const metrics = deps.registry ? sourceMetrics(deps.registry) : undefined;
  const log = deps.log;
  const where = { camera, url: scrubSecrets(options.url, options.url) };
  const counts = { frames: 0, dropped: 0, reconnects: 0 };

  const scheduler = deps.scheduler;
  const status = new BehaviorSubject<CameraStatus>({ camera, state: 'offline', since: (scheduler ?? Date).now(), reconnects: 0 });
  metrics?.up.set({ camera }, 0);
  if (metrics) zeroCameraSeries(metrics, camera);

  const onEvent = (e: SourceEvent): void => {
    switch (e.type) {
      case 'frame':
        counts.frames++;
        metrics?.frames.inc({ camera });
        break;
      case 'snapshot':
        metrics?.snapshots.inc({ camera });
        snapshots.next(e.snapshot);
        break;
      case 'dropped':
        counts.dropped += e.count;
        metrics?.dropped.inc({ camera, reason: e.reason }, e.count);
        break;
      case 'status': {
        const s = e.status;
        // One `connecting` per connection: every one after the first is a reconnect.
        if (s.state === 'connecting' && s.reconnects > 0) {
          counts.reconnects++;
          metrics?.reconnects.inc({ camera });
        }
        metrics?.up.set({ camera }, s.state === 'streaming' ? 1 : 0);
        (s.state === 'streaming' || s.state === 'connecting' ? log?.info : log?.warn)?.call(log, { ...where, state: s.state, reconnects: s.reconnects, reason: s.reason }, `camera ${s.state}`);
        status.next(s);
        break;
      }
      case 'child':
        log?.debug({ ...where, pid: e.pid }, 'source child started');
        break;
      case 'pipeline':
        log?.debug({ ...where, pipeline: e.description }, 'source pipeline');
        break;
      case 'retry':
        log?.warn({ ...where, delayMs: e.delayMs, code: e.error.code, reason: e.error.message }, 'camera reconnecting');
        break;
    }
  };

  const frames = supervise(
    connectNow,
    {
      camera,
      regions: streams.map((s) => s.region),
      width: request.width,
      height: request.height,
      stallTimeoutMs: options.stallTimeoutMs ?? 10_000,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      endIsFailure: spec.kind !== 'file',
      retry: spec.kind !== 'file' ? 'all' : request.realtime ? 'stalls' : 'none',
    },
    scheduler,
    deps.random,
  ).pipe(
    tap(onEvent),
    filter((e): e is Extract<SourceEvent, { type: 'frame' }> => e.type === 'frame'),
    map((e) => e.frame),
    finalize(() => {
      metrics?.up.set({ camera }, 0);
      const last = status.getValue();
      if (last.state !== 'offline') status.next({ camera, state: 'offline', since: (scheduler ?? Date).now(), reconnects: last.reconnects, reason: 'stopped' });
    }),
    share(),
  );

  return {
    frames,
    status: status.pipe(distinctUntilChanged((a, b) => a.state === b.state && a.reconnects === b.reconnects)),
    snapshots: snapshots.asObservable(),
    setLiveSnapshots: (on) => live.next(on),
    counts: () => ({ ...counts }),
  };
}
