// The daemon's life: phased start (sink, metrics, model warm-up, labels, sources), ready only when
// all started; reload of labels and cameras without touching the rest; orderly stop.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { apiRoutes } from '../api/api-routes.js';
import { registerClipMetrics, type ClipMetrics } from '../clip/clip-metrics.js';
import type { CameraConfig, Config } from '../config/schema.js';
import { EventStore } from '../events/event-store.js';
import { registerBuildInfo } from '../metrics/build-info.js';
import { createRegistry } from '../metrics/create-registry.js';
import { watchEventLoop } from '../metrics/event-loop-health.js';
import { startHttpServer, type Check } from '../metrics/http-server.js';
import { ClipTokenizer } from '../model/clip-tokenizer.js';
import { loadClipVocab } from '../model/clip-vocab.js';
import { openVideoModel, type VideoModel } from '../model/video-model.js';
import type { ActionEventOptions } from '../recognize/action-events.js';
import { formatEventLine } from '../recognize/format-event.js';
import { topK } from '../recognize/top-k.js';
import { createMqttSink, type MqttSink } from '../sink/mqtt-sink.js';
import { actionStateFromEvent } from '../sink/payloads.js';
import { cameraSource } from '../source/camera-source.js';
import type { FairScheduler } from '../clip/fair-scheduler.js';
import type { ActionEvent, CameraStatus, Clip, ClipEmbedding, RecognitionState } from '../types.js';
import { CameraRunner } from './camera-runner.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { registerEventMetrics, type EventMetrics } from './event-metrics.js';
import { modelOptions } from './model-options.js';
import { clipScheduler, RecognitionControl } from './recognition-control.js';
import { registerRecognitionMetrics, type RecognitionMetrics } from './recognition-metrics.js';
import { buildRecognizer, type Recognizer } from './recognizer.js';
import type { Notifier } from './sd-notify.js';
import { prepareConfig, type PreparedConfig } from './validate-config.js';
import { VERSION } from './version.js';

export interface DaemonDeps {
  log: Logger;
  notifier: Notifier;
  /** Something the daemon cannot recover from (the model lost): the process must exit non-zero. */
  onFatal?: (e: Error) => void;
}

/** The background label never fires an event: Home Assistant discovery leaves it out of event_types. */
function discoveryBackground(c: Config): { background?: string } {
  return c.labels.background !== undefined ? { background: c.labels.background } : {};
}

export class Daemon {
  readonly registry: Registry = createRegistry();
  private readonly clipMetrics: ClipMetrics;
  private readonly eventMetrics: EventMetrics;
  private readonly recognitionMetrics: RecognitionMetrics;
  private scheduler: FairScheduler<Clip, ClipEmbedding> | undefined;
  private control: RecognitionControl | undefined;
  private controlTimer: NodeJS.Timeout | undefined;
  private readonly loop = watchEventLoop();
  private readonly runners = new Map<string, { runner: CameraRunner; camera: CameraConfig }>();
  private readonly statuses = new Map<string, CameraStatus>();
  private broker: EmbeddedBroker | undefined;
  private sink: MqttSink | undefined;
  private events: EventStore | undefined;
  private http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  private model: VideoModel | undefined;
  private tokenizer: ClipTokenizer | undefined;
  private recognizer: Recognizer | undefined;
  private started = false;
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
  }

  /** Starts on a config prepareConfig accepted (run passes what check-config would print ok for). */
  async start(prepared?: PreparedConfig): Promise<void> {
    const { log } = this.deps;
    // 0. Every check before anything is connected: the bundle's files verified, the labels read.
    const { config: c, bundle, labelSet } = prepared ?? (await prepareConfig(this.config, 'config'));
    this.config = c;
    const labelNames = labelSet.labels.map((l) => l.name);
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
      spool: { dir: c.mqtt.spool.dir, maxBytes: c.mqtt.spool.max_bytes },
      publishScores: c.mqtt.publish_scores,
      ...(c.mqtt.homeassistant.enabled ? { homeAssistant: { prefix: c.mqtt.homeassistant.prefix, labels: labelNames, ...discoveryBackground(c) } } : {}),
      registry: this.registry,
      log: log.child({ stage: 'sink' }),
    });
    await this.sink.start();

    // 2. Metrics and health, so a slow model load is visible as "not ready" rather than silence.
    const routes = apiRoutes({
      events: this.events,
      cameras: () => this.enabledCameras(this.config).map((cam) => ({ id: cam.id, status: this.statuses.get(cam.id) })),
      onError: (e, path) => log.error({ path, err: e.message }, 'API request failed'),
    });
    this.http = await startHttpServer(c.http.listen, { registry: this.registry, health: () => this.health(), ready: () => this.readiness(), routes });
    log.info({ listen: this.http.address }, 'serving /metrics, /healthz, /readyz');

    // 3. The model, warmed up, then the labels embedded with it.
    this.model = await openVideoModel(bundle, modelOptions(c.model), {
      log: log.child({ stage: 'model' }),
      registry: this.registry,
      ...(this.deps.onFatal ? { onFatal: this.deps.onFatal } : {}),
    });
    this.scheduler = clipScheduler(() => this.model!);
    this.startRecognitionControl();
    this.tokenizer = new ClipTokenizer(loadClipVocab(bundle.vocabPath));
    this.recognizer = await buildRecognizer(labelSet, c.labels.cache_dir, this.model, this.tokenizer, log.child({ stage: 'recognize' }));

    this.publishInfo();

    // 4. Sources last: frames arriving now have a model and labels waiting.
    for (const camera of this.enabledCameras(c)) this.startCamera(camera);
    if (this.runners.size === 0) log.warn('no cameras configured: add cameras to the config or pass --camera ID=URL');
    this.started = true;
    this.deps.notifier.ready(`${this.runners.size} camera(s), model ${bundle.manifest.name} on ${this.model.provider}`);
    this.deps.notifier.startWatchdog(() => this.health().ok);
  }

  private frameIntervalMs(): number {
    return this.config.recognition.frame_interval_ms ?? this.model!.bundle.manifest.frame_interval_ms ?? 125;
  }

  /** Strides adapted to the model's capacity and coverage measured, every adapt_interval_s. */
  private startRecognitionControl(): void {
    const r = this.config.recognition;
    const control = new RecognitionControl(() => this.model!, this.recognitionMetrics, this.deps.log.child({ stage: 'schedule' }), {
      strideFloor: r.stride,
      strideCeiling: r.stride_max,
      frameIntervalMs: this.frameIntervalMs(),
      warnBelow: r.coverage_warn_below,
    });
    this.control = control;
    this.controlTimer = setInterval(() => control.tick([...this.runners.values()].map((x) => x.runner)), r.adapt_interval_s * 1000);
    this.controlTimer.unref();
  }

  private enabledCameras(c: Config): CameraConfig[] {
    return c.cameras.filter((cam) => cam.enabled);
  }

  private eventOptions(): Omit<ActionEventOptions, 'labels'> {
    const r = this.config.recognition;
    const m = this.model!.bundle;
    return {
      ...(this.config.labels.background !== undefined ? { background: this.config.labels.background } : {}),
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

  private startCamera(camera: CameraConfig): void {
    const { log } = this.deps;
    const c = this.config;
    const m = this.model!.bundle.manifest;
    const frameIntervalMs = c.recognition.frame_interval_ms ?? m.frame_interval_ms ?? 125;
    const source = cameraSource(
      {
        camera: camera.id,
        url: camera.url!,
        width: m.width,
        height: m.height,
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
      },
      { registry: this.registry, log: log.child({ stage: 'source' }) },
    );
    this.clipMetrics.camera(camera.id);
    this.eventMetrics.camera(camera.id, this.reportableLabels());
    const runner = new CameraRunner(camera.id, {
      source,
      model: this.model!,
      scheduler: this.scheduler!,
      clipMetrics: this.clipMetrics,
      onRecognitionState: (state) => this.recognitionMetrics.state(camera.id, state),
      log: log.child({ stage: 'recognize', camera: camera.id }),
      onStatus: (status) => {
        this.statuses.set(camera.id, status);
        this.sink?.publishStatus(status);
      },
      onScores: (scores, recognizer) => {
        if (this.config.mqtt.publish_scores) this.sink?.publishScores({ clip: scores.clip, top: topK(recognizer.names, scores.scores, this.config.recognition.top_k) });
      },
      onEvent: (event) => this.publishEvent(event),
    });
    this.recognitionMetrics.state(camera.id, runner.recognitionState);
    runner.start({ frameIntervalMs: this.frameIntervalMs(), stride: c.recognition.stride, ...(c.recognition.motion_gate.enabled ? { motionThreshold: c.recognition.motion_gate.threshold } : {}) });
    runner.setRecognizer(this.recognizer!, this.eventOptions());
    this.runners.set(camera.id, { runner, camera });
  }

  /** The labels an event can carry: the recognizer's, less the background label. */
  private reportableLabels(): string[] {
    const background = this.config.labels.background?.trim();
    return this.recognizer!.names.filter((n) => n.trim() !== background);
  }

  private publishEvent(event: ActionEvent): void {
    this.events?.record(event);
    const sink = this.sink!;
    sink.publishState(actionStateFromEvent(event));
    // id + type + clip end identify one message (start, updates and end share the occurrence id).
    const fields = { camera: event.camera, id: event.id, type: event.type, label: event.label, score: Number(event.score.toFixed(3)), clip_end: event.clip.last_frame_at };
    sink.publishEvent(event).then(
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
    });
  }

  health(): Check {
    const loop = this.loop.ok();
    const checks: Check['checks'] = { event_loop: loop };
    if (this.model) checks.model = this.modelHealth();
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /** The model workers answering within the timeout, and the last inference succeeded. */
  modelHealth(): { ok: boolean; detail: string } {
    if (!this.model) return { ok: false, detail: 'loading' };
    const h = this.model.health();
    return { ok: h.ok, detail: h.detail };
  }

  /** Each camera's recognition state (idle, recognizing, failing, paused); not ok while one is failing. */
  recognitionStates(): { ok: boolean; detail: string; cameras: Record<string, RecognitionState> } {
    const cameras = Object.fromEntries([...this.runners].map(([id, { runner }]) => [id, runner.recognitionState]));
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
      model: { ok: this.model !== undefined && this.recognizer !== undefined, detail: this.model ? `${this.model.bundle.manifest.name} on ${this.model.provider}` : 'loading' },
      mqtt: { ok: this.sink !== undefined, detail: this.sink ? (this.sink.connected ? 'connected' : `spooling (${this.sink.spooled} events)`) : 'starting' },
      cameras: { ok: streaming > 0, detail: `${streaming} of ${this.runners.size} streaming` },
      recognition: this.recognitionStates(),
      started: { ok: this.started },
      ...(this.events ? { events: this.events.status() } : {}),
    };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /** Applies a new config: labels and cameras change in place; other sections need a restart. */
  async reload(next: Config, origin = 'new config'): Promise<void> {
    const { log } = this.deps;
    const previous = this.config;
    // Fully validated before anything running is touched: a bad label file or TLS file leaves all as
    // it was. Labels are checked against the running model (a model change needs a restart).
    const prepared = await prepareConfig(next, origin, this.model ? { bundle: this.model.bundle } : {});
    for (const key of ['model', 'mqtt', 'http', 'source', 'events'] as const) {
      if (!isDeepStrictEqual(previous[key], next[key])) log.warn({ section: key }, `config section ${key} changed: restart msta-edge to apply it`);
    }
    // The label set as read now: an edited label file changes it while the config stays the same.
    const labelsChanged = !isDeepStrictEqual(previous.labels, next.labels) || !isDeepStrictEqual(this.recognizer?.set, prepared.labelSet);
    if (labelsChanged || !isDeepStrictEqual(previous.recognition, next.recognition)) {
      const recognizer = await buildRecognizer(prepared.labelSet, next.labels.cache_dir, this.model!, this.tokenizer!, log.child({ stage: 'recognize' }));
      this.config = { ...previous, labels: next.labels, recognition: next.recognition };
      this.recognizer = recognizer;
      for (const { runner } of this.runners.values()) runner.setRecognizer(recognizer, this.eventOptions());
      this.sink?.updateLabels({ labels: recognizer.names, ...discoveryBackground(next) });
      for (const id of this.runners.keys()) this.eventMetrics.camera(id, this.reportableLabels());
      log.info({ labels: recognizer.names.length }, 'labels reloaded');
    }
    const wanted = new Map(this.enabledCameras(next).map((c) => [c.id, c]));
    this.config = { ...this.config, cameras: next.cameras };
    for (const [id, { runner, camera }] of this.runners) {
      if (!isDeepStrictEqual(wanted.get(id), camera)) {
        await runner.stop();
        this.runners.delete(id);
        this.statuses.delete(id);
        this.control?.forget(id);
        log.info({ camera: id }, wanted.has(id) ? 'camera changed: restarting it' : 'camera removed');
      }
    }
    for (const [id, camera] of wanted) {
      if (!this.runners.has(id)) {
        this.startCamera(camera);
        log.info({ camera: id }, 'camera started');
      }
    }
    this.sink?.setCameras([...wanted.keys()]);
    this.publishInfo();
  }

  /** Stops sources, lets in-flight inference finish and its events reach the spool, then says offline. */
  async stop(): Promise<void> {
    this.deps.notifier.stopping();
    await Promise.all([...this.runners.values()].map(({ runner }) => runner.stop()));
    this.runners.clear();
    clearInterval(this.controlTimer);
    await this.model?.close();
    this.events?.close();
    await this.sink?.close(2000);
    await this.http?.close();
    await this.broker?.close();
    this.loop.stop();
    this.deps.notifier.close();
  }
}
