// The daemon's life: phased start (sink, metrics, model warm-up, labels, sources), ready only when
// all started; reload of labels, cameras and the model bundle without touching the rest; orderly stop. Start,
// reloads and stop run one at a time, in the order asked; a stop asked during start ends it at the
// next phase.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { apiRoutes } from '../api/api-routes.js';
import { registerClipMetrics, type ClipMetrics } from '../clip/clip-metrics.js';
import { effectiveSettings, type Settings } from '../config/effective-settings.js';
import type { CameraConfig, Config } from '../config/schema.js';
import { EventStore } from '../events/event-store.js';
import { registerBuildInfo } from '../metrics/build-info.js';
import { createRegistry } from '../metrics/create-registry.js';
import { watchEventLoop } from '../metrics/event-loop-health.js';
import { startHttpServer, type Check } from '../metrics/http-server.js';
import { ClipTokenizer } from '../model/clip-tokenizer.js';
import { loadClipVocab } from '../model/clip-vocab.js';
import { bundleFrameIntervalMs } from '../model/bundle-manifest.js';
import type { Bundle } from '../model/read-bundle.js';
import { ConfigError } from '../config/config-error.js';
import { openVideoModel, type VideoModel } from '../model/video-model.js';
import type { ActionEventOptions } from '../recognize/action-events.js';
import { formatEventLine } from '../recognize/format-event.js';
import { topK } from '../recognize/top-k.js';
import type { DiscoveryLabels } from '../sink/home-assistant.js';
import { createMqttSink, type MqttSink } from '../sink/mqtt-sink.js';
import { actionStateFromEvent, isoTime } from '../sink/payloads.js';
import { cameraSource, type CameraSource } from '../source/camera-source.js';
import { killSourceChildren, reapSourceChildren } from '../source/child-process.js';
import type { FairScheduler } from '../clip/fair-scheduler.js';
import { streamKey, type ActionEvent, type CameraStatus, type Clip, type ClipEmbedding, type RecognitionCommand, type RecognitionState } from '../types.js';
import { CameraRunner, type ClipSettings } from './camera-runner.js';
import { cameraStreams } from './camera-streams.js';
import { EventSnapshots } from './event-snapshots.js';
import { SnapshotHub } from './snapshot-hub.js';
import { wireConsole } from './console-wiring.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { registerEventMetrics, type EventMetrics } from './event-metrics.js';
import { daemonHealth, type ComponentCheck } from './health.js';
import { modelOptions } from './model-options.js';
import { clipScheduler, RecognitionControl } from './recognition-control.js';
import { registerRecognitionMetrics, type RecognitionMetrics } from './recognition-metrics.js';
import { RecognitionSwitches } from './recognition-switches.js';
import { buildCameraRecognizers, type CameraRecognizers } from './camera-recognizers.js';
import type { Recognizer } from './recognizer.js';
import type { Notifier } from './sd-notify.js';
import { prepareConfig, type PreparedConfig } from './validate-config.js';
import { VERSION } from './version.js';

/** How a camera cuts its frames into clips, from its recognition settings. */
function clipSettings(frameIntervalMs: number, r: Settings['recognition']): ClipSettings {
  return { frameIntervalMs, stride: r.stride, ...(r.motion_gate.enabled ? { motionThreshold: r.motion_gate.threshold } : {}) };
}

export interface DaemonDeps {
  log: Logger;
  notifier: Notifier;
  /** Something the daemon cannot recover from (the model lost): the process must exit non-zero. */
  onFatal?: (e: Error) => void;
}

/** A camera's labels as the sink announces them: the background label never fires an event (not in event_types). */
/** Each camera's region names, for the cameras that have regions (the sink's topics and entities, <base>/info). */
function cameraRegions(cameras: readonly CameraConfig[]): Record<string, string[]> {
  return Object.fromEntries(cameras.filter((c) => c.regions.length > 0).map((c) => [c.id, c.regions.map((r) => r.name)]));
}

function discoveryLabels(names: readonly string[], settings: Settings): DiscoveryLabels {
  return { labels: names, ...(settings.labels.background !== undefined ? { background: settings.labels.background } : {}) };
}

/** The labels an event can carry: the recognizer's, less the background label. */
function reportableLabels(recognizer: Recognizer, settings: Settings): string[] {
  const background = settings.labels.background?.trim();
  return recognizer.names.filter((n) => n.trim() !== background);
}

/** The console's URL from the address the HTTP server listens on (a wildcard bind: this host's name). */
export function consoleUrl(address: string): string {
  const wildcard = /^(0\.0\.0\.0|\[::\]):/.exec(address);
  return `http://${wildcard ? address.replace(wildcard[1]!, hostname()) : address}/`;
}

export class Daemon {
  readonly registry: Registry = createRegistry();
  private readonly clipMetrics: ClipMetrics;
  private readonly eventMetrics: EventMetrics;
  private readonly recognitionMetrics: RecognitionMetrics;
  private scheduler: FairScheduler<Clip, ClipEmbedding> | undefined;
  private control: RecognitionControl | undefined;
  private controlTimer: NodeJS.Timeout | undefined;
  private readonly modelSwaps: Counter<'result'>;
  private readonly loop = watchEventLoop();
  /** By camera id: its config and one runner per stream (the whole camera, or each region), all fed by its one source. */
  private readonly runners = new Map<string, { runners: CameraRunner[]; camera: CameraConfig }>();
  private readonly statuses = new Map<string, CameraStatus>();
  /**
   * Recent JPEGs per camera: 30 s of them for events' key frames (a clip's middle is seconds
   * before its event), live encoding on for 10 s after the console last asked.
   */
  private readonly jpegs = new SnapshotHub({ ringMs: 30_000, ringMax: 128, liveLeaseMs: 10_000, freshMs: 1500, waitMs: 3000 });
  private readonly eventSnapshots = new EventSnapshots({
    enabled: (camera) => this.runners.get(camera)?.camera.snapshots.enabled ?? false,
    nearest: (camera, at, maxDistanceMs) => this.jpegs.nearest(camera, at, maxDistanceMs),
    save: (id, jpeg) => this.events?.saveSnapshot(id, jpeg) ?? Promise.resolve(false),
    publish: (camera, jpeg) => this.sink?.publishSnapshot(camera, jpeg),
  });
  private broker: EmbeddedBroker | undefined;
  private sink: MqttSink | undefined;
  private events: EventStore | undefined;
  private http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  private console: ReturnType<typeof wireConsole> | undefined;
  private model: VideoModel | undefined;
  private tokenizer: ClipTokenizer | undefined;
  private recognizers: CameraRecognizers | undefined;
  private switches: RecognitionSwitches | undefined;
  private started = false;
  private stopRequested = false;
  private stopped: Promise<void> | undefined;
  /** The lifecycle operation in progress (start, a reload, stop): the next one waits for it. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  /** Where the broker really is (the embedded one picks its port). */
  mqttUrl = '';

  constructor(
    private config: Config,
    private readonly deps: DaemonDeps,
  ) {
    this.clipMetrics = registerClipMetrics(this.registry);
    this.eventMetrics = registerEventMetrics(this.registry);
    this.recognitionMetrics = registerRecognitionMetrics(this.registry);
    registerBuildInfo(this.registry, { version: VERSION, node: process.version });
    this.modelSwaps = new Counter({ name: 'msta_model_swaps_total', help: 'Model bundle swaps on reload, by result (swapped, refused)', labelNames: ['result'], registers: [this.registry] });
  }

  /** Runs `op` after the lifecycle operation in progress, never alongside it. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(op, op);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts on a config prepareConfig accepted (run passes what check-config would print ok for);
   * resolves early, with nothing more started, when a stop was asked meanwhile.
   */
  start(prepared?: PreparedConfig): Promise<void> {
    return this.serial(() => this.startPhases(prepared));
  }

  private async startPhases(prepared: PreparedConfig | undefined): Promise<void> {
    const { log } = this.deps;
    const stopAsked = () => {
      if (this.stopRequested) log.info('stop asked during start-up: starting no further');
      return this.stopRequested;
    };
    // 0. Every check before anything is connected: the bundle's files verified, the labels read.
    const { config: c, bundle, labelSet, cameraLabelSets, regionLabelSets } = prepared ?? (await prepareConfig(this.config, 'config'));
    this.config = c;
    // Announced before the model loads: the names are known from the label sets already.
    const names = (set: typeof labelSet): string[] => set.labels.map((l) => l.name);
    if (stopAsked()) return;
    if (c.events.enabled) {
      const e = c.events;
      this.events = EventStore.open({
        path: e.path,
        flushMs: e.flush_ms,
        retention: { maxAgeMs: e.retention.max_age_days * 86_400_000, maxEvents: e.retention.max_events, maxSnapshotBytes: e.retention.max_snapshot_bytes },
        pruneEveryMs: e.retention.interval_s * 1000,
        log: log.child({ stage: 'events' }),
        registry: this.registry,
      });
    }

    // 1. The sink next: events made later must have somewhere to go (its spool works offline).
    if (c.mqtt.url === undefined) {
      this.broker = await startEmbeddedBroker();
      log.info({ url: this.broker.url }, 'no mqtt.url configured: embedded MQTT 3.1.1 broker started on loopback');
    }
    this.mqttUrl = c.mqtt.url ?? this.broker!.url;
    this.sink = createMqttSink({
      url: this.mqttUrl,
      protocolVersion: this.broker ? 4 : c.mqtt.protocol_version,
      ...(c.mqtt.client_id ? { clientId: c.mqtt.client_id } : {}),
      baseTopic: c.mqtt.base_topic,
      ...(c.mqtt.username !== undefined ? { username: c.mqtt.username } : {}),
      ...(c.mqtt.password !== undefined ? { password: c.mqtt.password } : {}),
      ...(c.mqtt.tls ? { tls: { ...c.mqtt.tls, rejectUnauthorized: c.mqtt.tls.reject_unauthorized } } : {}),
      cameras: this.enabledCameras(c).map((cam) => cam.id),
      snapshotCameras: this.snapshotCameras(c),
      regions: cameraRegions(this.enabledCameras(c)),
      spool: { dir: c.mqtt.spool.dir, maxBytes: c.mqtt.spool.max_bytes },
      publishScores: c.mqtt.publish_scores,
      labels: discoveryLabels(names(labelSet), c),
      cameraLabels: this.sinkLabels(c, (cam, region) => names((region !== null ? regionLabelSets.get(streamKey(cam.id, region)) : undefined) ?? cameraLabelSets.get(cam.id) ?? labelSet)),
      ...(c.mqtt.homeassistant.enabled ? { homeAssistant: { prefix: c.mqtt.homeassistant.prefix } } : {}),
      version: VERSION,
      onCommand: (command) => this.onCommand(command),
      registry: this.registry,
      log: log.child({ stage: 'sink' }),
    });
    await this.sink.start();
    if (stopAsked()) return;
    // Recognition switched off over MQTT stays off across restarts: kept beside the spool, whose
    // lock (taken by start) makes this daemon its only writer.
    const switches = RecognitionSwitches.load(join(c.mqtt.spool.dir, 'recognition.json'));
    this.switches = switches;
    for (const camera of this.enabledCameras(c)) this.sink.publishRecognition(camera.id, switches.enabled(camera.id));

    // 2. Metrics and health, so a slow model load is visible as "not ready" rather than silence.
    const api = apiRoutes({
      events: this.events,
      cameras: () => this.enabledCameras(this.config).map((cam) => ({ id: cam.id, status: this.statuses.get(cam.id) })),
      latestSnapshot: (camera) => this.jpegs.latest(camera),
      onError: (e, path) => log.error({ path, err: e.message }, 'API request failed'),
    });
    // The console's credential guard first: it covers /api too.
    this.console = wireConsole({
      config: () => this.config,
      registry: this.registry,
      log: log.child({ stage: 'console' }),
      cameraIds: () => [...this.runners.keys()],
      status: (id) => this.statuses.get(id),
      model: () => this.model,
      tokenizer: () => this.tokenizer,
      recognizer: (camera, region = null) => {
        const cam = camera !== undefined ? this.runners.get(camera)?.camera : undefined;
        return cam && this.recognizers ? this.recognizerOf(cam, region) : this.recognizers?.global;
      },
      recognition: (camera, region = null) => {
        const cam = camera !== undefined ? this.runners.get(camera)?.camera : undefined;
        return cam ? this.settings(cam, this.config, region).recognition : this.config.recognition;
      },
      mqtt: () => this.sink && { connected: this.sink.connected, spooled: this.sink.spooled },
    });
    const routes = this.console.routes;
    this.http = await startHttpServer(c.http.listen, { registry: this.registry, health: () => this.health(), ready: () => this.readiness(), routes: (req, res, url) => routes(req, res, url) || api(req, res, url) });
    log.info({ listen: this.http.address, console: c.http.console.enabled, auth: this.console.guarded }, 'serving /metrics, /healthz, /readyz');
    this.sink.setConsoleUrl(consoleUrl(this.http.address));
    if (stopAsked()) return;

    // 3. The model, warmed up, then the labels embedded with it.
    this.model = await this.openModel(bundle, c);
    this.scheduler = clipScheduler(() => this.model!);
    this.startRecognitionControl();
    this.tokenizer = new ClipTokenizer(loadClipVocab(bundle.vocabPath));
    this.recognizers = await buildCameraRecognizers({ labelSet, cameraLabelSets, regionLabelSets }, c.labels.cache_dir, this.model, this.tokenizer, log.child({ stage: 'recognize' }));
    if (stopAsked()) return;

    this.publishInfo();

    // 4. Sources last: frames arriving now have a model and labels waiting. All are built (and
    // their URLs checked) before the first starts.
    const sources = this.enabledCameras(c).map((camera) => ({ camera, source: this.buildSource(camera) }));
    for (const { camera, source } of sources) this.startRunner(camera, source);
    if (this.runners.size === 0) log.warn('no cameras configured: add cameras to the config or pass --camera ID=URL');
    this.started = true;
    this.deps.notifier.ready(`${this.runners.size} camera(s), model ${bundle.manifest.name} on ${this.model.provider}`);
    this.deps.notifier.startWatchdog(() => {
      const h = this.health();
      const failing = Object.entries(h.checks).filter(([, c]) => !c.ok);
      return { ok: h.ok, reason: failing.map(([name, c]) => `${name}: ${c.detail ?? 'failed'}`).join('; ') };
    });
  }

  /** A camera's (or one of its regions') labels and recognition: its own merged over the global ones (a region's over its camera's). */
  private settings(camera: CameraConfig, c: Config = this.config, region: string | null = null): Settings {
    const own = region === null ? undefined : camera.regions.find((r) => r.name === region);
    return effectiveSettings(c, camera, own);
  }

  private frameIntervalMs(camera: CameraConfig, c: Config = this.config): number {
    return this.settings(camera, c).recognition.frame_interval_ms ?? bundleFrameIntervalMs(this.model!.bundle.manifest) ?? 125;
  }

  /** Strides adapted to the model's capacity and coverage measured, every adapt_interval_s. */
  private startRecognitionControl(): void {
    const r = this.config.recognition;
    const control = new RecognitionControl(() => this.model!, this.recognitionMetrics, this.deps.log.child({ stage: 'schedule' }), (id, region) => {
      const camera = this.runners.get(id)?.camera;
      const own = camera ? this.settings(camera, this.config, region).recognition : r;
      return {
        strideFloor: own.stride,
        strideCeiling: own.stride_max,
        frameIntervalMs: camera ? this.frameIntervalMs(camera) : (r.frame_interval_ms ?? bundleFrameIntervalMs(this.model!.bundle.manifest) ?? 125),
        warnBelow: own.coverage_warn_below,
      };
    });
    this.control = control;
    this.controlTimer = setInterval(() => control.tick(this.allRunners()), r.adapt_interval_s * 1000);
    this.controlTimer.unref();
  }

  /** Opens and warms up a bundle's sessions with the config's model options. */
  private openModel(bundle: Bundle, c: Config): Promise<VideoModel> {
    return openVideoModel(bundle, modelOptions(c.model!), {
      log: this.deps.log.child({ stage: 'model' }),
      registry: this.registry,
      ...(this.deps.onFatal ? { onFatal: this.deps.onFatal } : {}),
    });
  }

  /**
   * A changed model section or bundle (a new model.bundle, or new files in the same directory),
   * already verified by prepareConfig: its sessions are warmed and the labels embedded with it
   * before any camera moves to it; then the old sessions close. Cameras keep streaming unless the
   * new model wants other input (frames, size, sampling), which restarts them. Any failure leaves
   * the running model in place. Returns whether the model changed.
   */
  private async swapModel(prepared: PreparedConfig): Promise<boolean> {
    const { log } = this.deps;
    const { config: next, bundle } = prepared;
    const old = this.model!;
    if (bundle.sha256 === old.bundle.sha256 && isDeepStrictEqual(this.config.model, next.model)) return false;
    let model: VideoModel;
    let tokenizer: ClipTokenizer;
    let recognizers: CameraRecognizers;
    try {
      model = await this.openModel(bundle, next);
    } catch (e) {
      this.modelSwaps.inc({ result: 'refused' });
      throw e;
    }
    try {
      tokenizer = new ClipTokenizer(loadClipVocab(bundle.vocabPath));
      recognizers = await buildCameraRecognizers(prepared, next.labels.cache_dir, model, tokenizer, log.child({ stage: 'recognize' }));
    } catch (e) {
      await model.close();
      this.modelSwaps.inc({ result: 'refused' });
      throw e;
    }
    const a = old.bundle.manifest;
    const b = bundle.manifest;
    const sameInput = a.frames === b.frames && a.height === b.height && a.width === b.width && bundleFrameIntervalMs(a) === bundleFrameIntervalMs(b);
    this.model = model;
    this.tokenizer = tokenizer;
    this.recognizers = recognizers;
    this.config = { ...this.config, model: next.model, labels: next.labels, recognition: next.recognition };
    // A snapshot: a restarted camera is a new entry in this.runners, which a live iteration would
    // visit again (and restart forever).
    for (const [id, { runners, camera }] of [...this.runners]) {
      // The running camera's settings as the new config has them (a reload may change both).
      const wanted = next.cameras.find((c) => c.id === id) ?? camera;
      if (sameInput) {
        for (const runner of runners) runner.setModel(model, this.recognizerOf(wanted, runner.region), this.eventOptions(wanted, runner.region));
      } else {
        await Promise.all(runners.map((runner) => runner.stop()));
        this.runners.delete(id);
        this.startRunner(camera, this.buildSource(camera));
      }
    }
    await old.close();
    this.modelSwaps.inc({ result: 'swapped' });
    log.info(
      { model: { name: b.name, sha256: bundle.sha256 }, previous: { name: a.name, sha256: old.bundle.sha256 }, cameras_restarted: sameInput ? 0 : this.runners.size, provider: model.provider },
      sameInput ? 'model swapped' : 'model swapped (new input shape: cameras restarted)',
    );
    return true;
  }

  private enabledCameras(c: Config): CameraConfig[] {
    return c.cameras.filter((cam) => cam.enabled);
  }

  /** A camera's (or one of its regions') recognizer: its own labels' (shared with streams whose sets are equal), its camera's, or the global one. */
  private recognizerOf(camera: CameraConfig, region: string | null = null): Recognizer {
    const r = this.recognizers!;
    return (region !== null ? r.byRegion.get(streamKey(camera.id, region)) : undefined) ?? r.byCamera.get(camera.id) ?? r.global;
  }

  private eventOptions(camera: CameraConfig, region: string | null = null): Omit<ActionEventOptions, 'labels'> {
    const { labels, recognition: r } = this.settings(camera, this.config, region);
    const m = this.model!.bundle;
    return {
      ...(labels.background !== undefined ? { background: labels.background } : {}),
      smoothing: r.smoothing,
      start: r.start,
      end: r.end,
      minClips: r.min_clips,
      minScore: r.min_score,
      topK: r.top_k,
      updateEveryClips: r.update_every_clips,
      updateRise: r.update_rise,
      model: { name: m.manifest.name, sha256: m.sha256 },
    };
  }

  /** The camera's source, not started: throws (SOURCE_URL_INVALID, CONFIG_INVALID) on a bad camera. */
  private buildSource(camera: CameraConfig, c: Config = this.config): CameraSource {
    const m = this.model!.bundle.manifest;
    const frameIntervalMs = this.frameIntervalMs(camera, c);
    return cameraSource(
      {
        camera: camera.id,
        url: camera.url!,
        width: m.width,
        height: m.height,
        // One decode: the whole camera (crop, masks), or each of its regions.
        streams: cameraStreams(camera),
        transport: camera.transport,
        latencyMs: camera.latency_ms,
        decoder: camera.decoder,
        ...(camera.max_fps !== undefined ? { maxFps: Math.round(camera.max_fps) } : {}),
        // The pipeline drops what the clip sampler would, before scaling and conversion.
        sampleIntervalMs: frameIntervalMs,
        loop: camera.loop,
        stallTimeoutMs: c.source.stall_timeout_s * 1000,
        stopTimeoutMs: c.source.stop_timeout_ms,
        backoff: { initialMs: c.source.reconnect_initial_ms, maxMs: c.source.reconnect_max_ms },
        // The JPEG branch where anything can use it: kept snapshots, or the console's live view.
        ...(camera.snapshots.enabled || c.http.console.enabled ? { snapshots: { ...camera.snapshots, masks: camera.masks } } : {}),
      },
      { registry: this.registry, log: this.deps.log.child({ stage: 'source' }) },
    );
  }

  /** The camera's runners, one per stream, all fed by `source` (started once they all subscribed). */
  private startRunner(camera: CameraConfig, source: CameraSource): void {
    const { log } = this.deps;
    // One camera entry, ever: a second would open a second connection to the camera.
    if (this.runners.has(camera.id)) throw new Error(`camera ${camera.id} is already running`);
    const runners = cameraStreams(camera).map(({ region }, i) => {
      this.clipMetrics.camera(camera.id, region);
      this.eventMetrics.camera(camera.id, reportableLabels(this.recognizerOf(camera, region), this.settings(camera, this.config, region)), region);
      const runner = new CameraRunner(
        camera.id,
        {
          source,
          model: this.model!,
          scheduler: this.scheduler!,
          clipMetrics: this.clipMetrics,
          onRecognitionState: (state) => this.recognitionMetrics.state(camera.id, region, state),
          log: log.child({ stage: 'recognize', camera: camera.id, ...(region !== null ? { region } : {}) }),
          // The camera's status once, from its first stream.
          ...(i === 0
            ? {
                onStatus: (status: CameraStatus) => {
                  this.statuses.set(camera.id, status);
                  this.sink?.publishStatus(status);
                },
              }
            : {}),
          onScores: (scores, recognizer) => {
            if (this.config.mqtt.publish_scores) this.sink?.publishScores({ clip: scores.clip, top: topK(recognizer.names, scores.scores, this.settingsOf(camera.id, region).recognition.top_k) });
          },
          onEvent: (event) => this.publishEvent(event),
          onEmbedding: (embedding) => this.console?.service?.clip(embedding),
        },
        region,
      );
      this.recognitionMetrics.state(camera.id, region, runner.recognitionState);
      return runner;
    });
    if (!this.switches!.enabled(camera.id)) log.info({ camera: camera.id }, 'recognition paused (switched off over MQTT)');
    for (const runner of runners) {
      runner.setRecognitionEnabled(this.switches!.enabled(camera.id));
      // The camera's frame interval (one decode samples for all its streams), each stream's own stride and gate.
      runner.start(clipSettings(this.frameIntervalMs(camera), this.settings(camera, this.config, runner.region).recognition));
      runner.setRecognizer(this.recognizerOf(camera, runner.region), this.eventOptions(camera, runner.region));
    }
    this.runners.set(camera.id, { runners, camera });
    this.jpegs.attach(camera.id, source);
  }

  /** The enabled cameras whose snapshots are enabled (retained snapshot topic, Home Assistant image). */
  private snapshotCameras(c: Config): string[] {
    return this.enabledCameras(c).filter((cam) => cam.snapshots.enabled).map((cam) => cam.id);
  }

  /** Every stream's runner of every camera. */
  private allRunners(): CameraRunner[] {
    return [...this.runners.values()].flatMap((e) => e.runners);
  }

  /** The settings of a running camera or one of its regions (the global ones for an unknown id). */
  private settingsOf(id: string, region: string | null = null): Settings {
    const camera = this.runners.get(id)?.camera;
    return camera ? this.settings(camera, this.config, region) : { labels: this.config.labels, recognition: this.config.recognition };
  }

  /**
   * Every enabled camera's labels for the sink, and each of its regions' by stream key
   * (camera/region): their active topics and Home Assistant discovery.
   */
  private sinkLabels(c: Config, namesOf: (camera: CameraConfig, region: string | null) => readonly string[]): Record<string, DiscoveryLabels> {
    return Object.fromEntries(
      this.enabledCameras(c).flatMap((cam) => [
        [cam.id, discoveryLabels(namesOf(cam, null), effectiveSettings(c, cam))],
        ...cam.regions.map((r) => [streamKey(cam.id, r.name), discoveryLabels(namesOf(cam, r.name), effectiveSettings(c, cam, r))]),
      ]),
    );
  }

  /** `<base>/<camera>/recognition/set`: the sink checked the camera and payload. */
  private onCommand(command: RecognitionCommand): void {
    const { log } = this.deps;
    const { camera, enabled } = command;
    let changed = this.switches!.enabled(camera) !== enabled;
    try {
      this.switches!.set(camera, enabled);
    } catch (e) {
      // Applied anyway; only the restart would forget it.
      log.error({ camera, err: (e as Error).message }, 'recognition switch not saved: a restart goes back to the saved state');
      changed = true;
    }
    for (const runner of this.runners.get(camera)?.runners ?? []) runner.setRecognitionEnabled(enabled);
    // Always echoed: a switch expects its state back even when nothing changed.
    this.sink?.publishRecognition(camera, enabled);
    if (changed) log.info({ camera, recognition: enabled ? 'ON' : 'OFF' }, enabled ? 'recognition resumed' : 'recognition paused; the camera keeps streaming');
  }

  private publishEvent(domainEvent: ActionEvent): void {
    // Recorded first: the snapshot it may get is attached to its row.
    this.events?.record(domainEvent, domainEvent.region);
    const event = this.eventSnapshots.onEvent(domainEvent);
    this.console?.service?.event(event);
    const sink = this.sink!;
    sink.publishState(actionStateFromEvent(event));
    // id + type + clip end identify one message (start, updates and end share the occurrence id).
    const fields = { camera: event.camera, ...(event.region !== null ? { region: event.region } : {}), id: event.id, type: event.type, label: event.label, score: Number(event.score.toFixed(3)), clip_end: isoTime(event.clip.lastFrameAt) };
    sink.publishEvent(event, () => this.eventMetrics.sent(event)).then(
      () => {
        this.eventMetrics.published(event);
        // Logged once safe (durable in the spool, or acknowledged): a readable line on a terminal, the ids in JSON.
        this.deps.log.info({ event: fields }, formatEventLine(event));
      },
      // The sink counts a lost event (msta_mqtt_events_lost_total) and logs once per burst; per event only at debug.
      (e: unknown) => this.deps.log.debug({ event: fields, err: (e as Error).message }, 'event lost: neither spooled nor delivered'),
    );
  }

  /** Retained `<base>/info`: what is running, once the model is loaded. */
  private publishInfo(): void {
    const model = this.model;
    if (!model) return;
    this.sink?.publishInfo({
      version: VERSION,
      model: { name: model.bundle.manifest.name, sha256: model.bundle.sha256 },
      provider: model.provider,
      cameras: this.enabledCameras(this.config).map((c) => c.id),
      regions: cameraRegions(this.enabledCameras(this.config)),
    });
  }

  /** Alive: the event loop, the model, and every enabled camera either working or recovering. */
  health(): Check {
    return daemonHealth({
      eventLoop: this.loop.ok(),
      model: this.modelHealth(),
      cameras: [...this.runners.values()].map(({ runners, camera }) => ({
        camera: camera.id,
        status: this.statuses.get(camera.id),
        // The streams share one source: they end together.
        ended: runners.find((r) => r.ended)?.ended,
        recognition: this.cameraRecognitionHealth(runners),
      })),
    });
  }

  /** The model workers answering within the timeout, and the last inference succeeded. */
  modelHealth(): ComponentCheck {
    if (!this.model) return { ok: true, detail: 'loading' };
    const h = this.model.health();
    return { ok: h.ok, detail: h.detail };
  }

  /** A camera's recognition: dead once its clip pipeline failed (which ends the camera's ingest), failing while its inferences fail. */
  private recognitionHealth(runner: CameraRunner): ComponentCheck {
    if (runner.ended?.failed) return { ok: false, detail: runner.ended.reason };
    return runner.recognitionState === 'failing' ? { ok: false, detail: 'inference failing' } : { ok: true, detail: runner.recognitionState };
  }

  /** A camera's recognition: its streams', the first that is not ok, else the first's. */
  private cameraRecognitionHealth(runners: readonly CameraRunner[]): ComponentCheck {
    const checks = runners.map((r) => ({ region: r.region, check: this.recognitionHealth(r) }));
    const bad = checks.find((c) => !c.check.ok);
    if (bad) return { ok: false, detail: `${bad.region !== null ? `region ${bad.region}: ` : ''}${bad.check.detail ?? 'failed'}` };
    return checks[0]?.check ?? { ok: true, detail: 'idle' };
  }

  /** Each camera stream's recognition state (idle, recognizing, failing, paused), keyed camera or camera/region; not ok while one is failing. */
  recognitionStates(): { ok: boolean; detail: string; cameras: Record<string, RecognitionState> } {
    const cameras = Object.fromEntries(this.allRunners().map((runner) => [runner.stream, runner.recognitionState]));
    const failing = Object.entries(cameras).filter(([, s]) => s === 'failing').map(([id]) => id);
    return {
      ok: failing.length === 0,
      detail: Object.entries(cameras).map(([id, s]) => `${id}: ${s}`).join(', ') || 'no cameras',
      cameras,
    };
  }

  readiness(): Check {
    const streaming = [...this.statuses.values()].filter((s) => s.state === 'streaming').length;
    const checks: Check['checks'] = {
      model: { ok: this.model !== undefined && this.recognizers !== undefined, detail: this.model ? `${this.model.bundle.manifest.name} on ${this.model.provider}` : 'loading' },
      mqtt: { ok: this.sink !== undefined, detail: this.sink ? (this.sink.connected ? 'connected' : `spooling (${this.sink.spooled} events)`) : 'starting' },
      cameras: { ok: streaming > 0, detail: `${streaming} of ${this.runners.size} streaming` },
      recognition: this.recognitionStates(),
      started: { ok: this.started },
      ...(this.events ? { events: this.events.status() } : {}),
    };
    // Per camera, informational: one camera down does not make the daemon unready.
    for (const { runners, camera } of this.runners.values()) {
      const status = this.statuses.get(camera.id);
      const recognition = this.cameraRecognitionHealth(runners);
      checks[`camera:${camera.id}`] = { ok: true, detail: `${status?.state ?? 'starting'}, recognition ${recognition.ok ? recognition.detail : `failed: ${recognition.detail}`}` };
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /**
   * Applies a new config: labels and cameras change in place; other sections need a restart.
   * Reloads run one at a time. Everything that can fail (validation, the label set and its
   * embeddings, every new or changed camera's source) is built first; only then is anything
   * running touched, so a failed reload leaves the daemon exactly as it was.
   */
  reload(next: Config, origin = 'new config'): Promise<void> {
    return this.serial(() => this.applyConfig(next, origin));
  }

  private async applyConfig(next: Config, origin: string): Promise<void> {
    const { log } = this.deps;
    if (this.stopRequested) {
      log.info('stopping: reload skipped');
      return;
    }
    const previous = this.config;
    // Fully validated before anything running is touched: a bad label file, TLS file or bundle
    // leaves all as it was. The bundle is read again: a new one, or new files in its directory,
    // swaps the model; its labels are checked against it.
    let prepared: PreparedConfig;
    try {
      prepared = await prepareConfig(next, origin);
    } catch (e) {
      if (e instanceof ConfigError && e.issues.some((i) => i.path[0] === 'model')) this.modelSwaps.inc({ result: 'refused' });
      throw e;
    }
    for (const key of ['mqtt', 'http', 'source', 'events'] as const) {
      if (!isDeepStrictEqual(previous[key], next[key])) log.warn({ section: key }, `config section ${key} changed: restart msta-edge to apply it`);
    }
    const before = this.recognizers!;
    const namesBefore = new Map(this.allRunners().map((runner) => [runner.stream, runner.recognizer?.names]));
    // The model first: a new one is warmed and its labels embedded before cameras move to it.
    await this.swapModel(prepared);
    // 1. Build: nothing running changes here. The label sets as read now (an edited label file
    // changes one while the config stays the same); sets unchanged in content keep their embedding.
    const recognizers = await buildCameraRecognizers(prepared, next.labels.cache_dir, this.model!, this.tokenizer!, log.child({ stage: 'recognize' }), this.recognizers);
    const wanted = new Map(this.enabledCameras(next).map((c) => [c.id, c]));
    // A camera restarts when its stream or its clips change; new labels or thresholds alone are
    // applied to the running camera.
    const clips = (c: Config, camera: CameraConfig) => clipSettings(this.frameIntervalMs(camera, c), effectiveSettings(c, camera).recognition);
    // Labels never change clips: a region's new labels are applied in place too.
    const stream = ({ labels: _l, recognition: _r, regions, ...rest }: CameraConfig) => ({ ...rest, regions: regions.map(({ labels: _rl, ...r }) => r) });
    const leaving = [...this.runners.entries()].filter(([id, { camera }]) => {
      const w = wanted.get(id);
      return w === undefined || !isDeepStrictEqual(stream(w), stream(camera)) || !isDeepStrictEqual(clips(next, w), clips(previous, camera));
    });
    const arriving = [...wanted.values()]
      .filter((camera) => !this.runners.has(camera.id) || leaving.some(([id]) => id === camera.id))
      .map((camera) => ({ camera, source: this.buildSource(camera, next) }));

    // 2. Swap.
    this.config = { ...this.config, cameras: next.cameras, labels: next.labels, recognition: next.recognition };
    this.recognizers = recognizers;
    const relabelled: string[] = [];
    for (const [id, entry] of this.runners) {
      const camera = wanted.get(id);
      if (camera === undefined || leaving.some(([l]) => l === id)) continue;
      entry.camera = camera;
      let changed = false;
      for (const runner of entry.runners) {
        const recognizer = this.recognizerOf(camera, runner.region);
        const options = this.eventOptions(camera, runner.region);
        if (recognizer !== runner.recognizer || !isDeepStrictEqual(options, runner.eventOptions)) runner.setRecognizer(recognizer, options);
        // A swapped model already moved the camera to its new labels: compared with those before the reload.
        if (isDeepStrictEqual(namesBefore.get(runner.stream), recognizer.names)) continue;
        this.eventMetrics.camera(id, reportableLabels(recognizer, this.settings(camera, this.config, runner.region)), runner.region);
        changed = true;
      }
      if (changed) relabelled.push(id);
    }
    this.sink?.updateLabels(discoveryLabels(recognizers.global.names, next), this.sinkLabels(next, (cam, region) => this.recognizerOf(cam, region).names));
    if (relabelled.length > 0 || !isDeepStrictEqual(recognizers.global.names, before.global.names)) {
      log.info({ labels: recognizers.global.names.length, cameras: relabelled }, 'labels reloaded');
    }
    for (const [id, { runners }] of leaving) {
      await Promise.all(runners.map((runner) => runner.stop()));
      this.runners.delete(id);
      this.jpegs.detach(id);
      this.statuses.delete(id);
      for (const runner of runners) this.control?.forget(id, runner.region);
      log.info({ camera: id }, wanted.has(id) ? 'camera changed: restarting it' : 'camera removed');
    }
    for (const { camera, source } of arriving) {
      this.startRunner(camera, source);
      log.info({ camera: camera.id }, 'camera started');
    }
    this.sink?.setCameras([...wanted.keys()], cameraRegions([...wanted.values()]));
    this.sink?.setSnapshotCameras(this.snapshotCameras(next));
    for (const id of wanted.keys()) this.sink?.publishRecognition(id, this.switches!.enabled(id));
    this.publishInfo();
  }

  /**
   * Stops sources, lets in-flight inference finish and its events reach the spool, then says
   * offline. Waits for the start or reload in progress (a start ends at its next phase), and for
   * every source child: one still alive after source.stop_timeout_ms is killed.
   */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopRequested = true;
    this.deps.notifier.stopping();
    return (this.stopped = this.serial(async () => {
      await Promise.all(this.allRunners().map((runner) => runner.stop()));
      this.runners.clear();
      this.jpegs.close();
      const killed = await reapSourceChildren(this.config.source.stop_timeout_ms);
      if (killed > 0) this.deps.log.warn({ killed }, 'source children did not stop in time: killed');
      clearInterval(this.controlTimer);
      await this.model?.close();
      this.events?.close();
      await this.sink?.close(2000);
      this.console?.service?.close();
      await this.http?.close();
      await this.broker?.close();
      this.loop.stop();
      this.deps.notifier.close();
    }));
  }

  /** Last resort when a stop takes too long: no source child may outlive the daemon. */
  killChildren(): void {
    killSourceChildren();
  }
}
