// The MQTT sink: MQTT API v1 (DESIGN.md, docs/mqtt.md) over mqtt.js. It wires five parts, one
// job each: the connection (connection.ts), the event outbox over the on-disk spool (outbox.ts,
// spool.ts), the retained per-camera state (retained-state.ts), Home Assistant discovery
// (home-assistant.ts) and the commands it receives (commands.ts), handed to the daemon as domain
// commands. Topics are built in topics.ts only.
//
// Events go out at once and into the spool at the same time (QoS 1); a record is deleted on its
// PUBACK. So an event survives a broker outage, a dropped connection with messages in flight,
// and a daemon killed at any moment after it is durable; duplicates (same event id) are possible
// only where QoS 1 allows them. Nothing else waits in memory while offline: retained statuses,
// states and discovery configs are kept as the latest value per camera and republished on every
// (re)connect.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import type { ActionEvent, CameraStatus, RecognitionCommand } from '../types.js';
import { BurstLog } from './burst-log.js';
import { parseCommand } from './commands.js';
import { Connection } from './connection.js';
import type { RetainedMessage } from './discovery.js';
import { CameraLabels } from './camera-labels.js';
import { HomeAssistantDiscovery, type DiscoveryLabels } from './home-assistant.js';
import { sinkMetrics, type PublishKind, type SinkMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import { bridgeInfoPayload, eventPayload, scoresPayload, type ActionState, type BridgeInfo, type ClipTopScores, type EventPayload } from './payloads.js';
import { RetainedState, type CameraRegions } from './retained-state.js';
import { Spool } from './spool.js';
import { sinkTopics, type SinkTopics } from './topics.js';

/** What the sink logs through; a pino logger fits. Messages are already secret-free. */
export interface SinkLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface MqttSinkOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the broker. */
  url: string;
  /** 5 = MQTT 5 (default), 4 = MQTT 3.1.1. */
  protocolVersion?: 4 | 5;
  /** Default `msta-edge-<hostname>-<node id>`. */
  clientId?: string;
  /** Default `msta`. */
  baseTopic?: string;
  username?: string;
  password?: string;
  /** File paths, read at start. The broker certificate is always verified unless rejectUnauthorized is false. */
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  /** The configured cameras: their discovery entities are announced, and retained topics of others removed. */
  cameras: readonly string[];
  /** Those whose snapshots are enabled: a retained `<base>/<camera>/snapshot` and a Home Assistant image each. */
  snapshotCameras?: readonly string[];
  /**
   * Each camera's regions of interest (absent or [] for a camera without): a camera with regions
   * has state, events, active topics and entities per region instead of for the whole camera.
   */
  regions?: CameraRegions;
  /** One daemon per directory (`spool.lock`); start() fails when it cannot be written. */
  spool: { dir: string; maxBytes?: number; maxMessages?: number };
  /** Publish per-clip top-k on `<base>/<camera>/scores` (QoS 0). Default false. */
  publishScores?: boolean;
  /**
   * The labels: less `background`, each has a retained `<base>/<camera>/active/<label>` ON/OFF, and
   * they are the Home Assistant event entity's event_types and binary sensors.
   */
  labels?: DiscoveryLabels;
  /** Cameras and regions with labels of their own, over `labels`, by stream key: a camera id, or camera/region (a region absent there has its camera's). */
  cameraLabels?: Readonly<Record<string, DiscoveryLabels>>;
  /** Home Assistant MQTT discovery; absent = off. */
  homeAssistant?: { prefix?: string };
  /** The msta-edge version, for Home Assistant's device and origin. */
  version?: string;
  /** A valid command received (`<base>/<camera>/recognition/set`); bad ones are counted and logged here. */
  onCommand?(command: RecognitionCommand): void;
  registry: Registry;
  log: SinkLogger;
  keepaliveSeconds?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** Events published but not yet acknowledged, at most (and at most half the broker's MQTT 5 Receive Maximum). Default 16. */
  maxInflight?: number;
}

export interface MqttSink {
  /** Opens and locks the spool (its backlog is sent first) and starts connecting; does not wait for the broker. */
  start(): Promise<void>;
  /**
   * Publishes the event at once when connected and spools it meanwhile; it is sent (again after
   * any outage) until acknowledged. Resolves once it is safe: durably spooled or acknowledged.
   * Rejects when it is lost (not spooled while offline), counted in msta_mqtt_events_lost_total.
   * `onSent` runs once, when it is first handed to the broker's connection or durably spooled.
   */
  publishEvent(event: ActionEvent, onSent?: () => void): Promise<void>;
  /** Retained `<base>/<camera>/status`; the latest per camera is republished on every reconnect. */
  publishStatus(status: CameraStatus): void;
  /** Retained `<base>/<camera>/state`; the latest per camera is republished on every reconnect. */
  publishState(state: ActionState): void;
  /** Retained `<base>/<camera>/recognition` `ON` / `OFF`; republished on every reconnect. */
  publishRecognition(camera: string, enabled: boolean): void;
  /** The HTTP console's URL once it listens: Home Assistant's configuration_url (re-announced). */
  setConsoleUrl(url: string): void;
  /** Retained binary JPEG on `<base>/<camera>/snapshot` (a camera with snapshots enabled); the latest is republished on every reconnect. */
  publishSnapshot(camera: string, jpeg: Buffer): void;
  /** The cameras whose snapshots are enabled now: the others' retained snapshots and image entities are removed. */
  setSnapshotCameras(cameras: readonly string[]): void;
  /** `<base>/<camera>/scores` at QoS 0 when enabled and connected; otherwise skipped. */
  publishScores(scores: ClipTopScores): void;
  /** Retained `<base>/info`; the latest is republished on every reconnect. */
  publishInfo(info: BridgeInfo): void;
  /** Replaces the camera list (and their regions): removed cameras' and regions' retained topics and discovery entities are cleared. */
  setCameras(cameras: readonly string[], regions?: CameraRegions): void;
  /**
   * New labels (a reload), all cameras' and those of cameras and regions with their own (by stream
   * key): the active topics of each stream whose labels changed follow, and its Home Assistant discovery is announced again
   * with the new event_types.
   */
  updateLabels(labels: DiscoveryLabels, cameraLabels?: Readonly<Record<string, DiscoveryLabels>>): void;
  readonly connected: boolean;
  /** Events spooled and not yet acknowledged. */
  readonly spooled: number;
  /** Resolves when connected; rejects with the last connection error (secret-free) after timeoutMs. */
  whenConnected(timeoutMs: number): Promise<void>;
  /** Publishes `offline` (retained) and disconnects; forces the socket closed after timeoutMs. Releases the spool. */
  close(timeoutMs?: number): Promise<void>;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_MESSAGES = 100_000;

class MqttSinkImpl implements MqttSink {
  private readonly topics: SinkTopics;
  private readonly metrics: SinkMetrics;
  private readonly connection: Connection;
  private readonly retained: RetainedState;
  private readonly discovery: HomeAssistantDiscovery | undefined;
  private readonly maxInflight: number;
  private readonly commandLog: BurstLog;
  private readonly labels: CameraLabels;
  private outbox: Outbox | undefined;
  private info: BridgeInfo | undefined;
  private snapshotCameras: Set<string>;
  /** The latest JPEG per camera, republished on connect (a broker without persistence forgets retained messages). */
  private readonly snapshots = new Map<string, Buffer>();
  private closing = false;

  constructor(private readonly options: MqttSinkOptions) {
    this.topics = sinkTopics(options.baseTopic, options.homeAssistant?.prefix);
    this.metrics = sinkMetrics(options.registry);
    this.maxInflight = options.maxInflight ?? 16;
    this.connection = new Connection({
      url: options.url,
      protocolVersion: options.protocolVersion ?? 5,
      clientId: options.clientId ?? `msta-edge-${hostname()}-${this.topics.nodeId}`,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.keepaliveSeconds !== undefined ? { keepaliveSeconds: options.keepaliveSeconds } : {}),
      ...(options.reconnectPeriodMs !== undefined ? { reconnectPeriodMs: options.reconnectPeriodMs } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      statusTopic: this.topics.bridgeStatus,
      log: options.log,
    });
    const publish = (m: RetainedMessage, kind: PublishKind): void => this.publishRetained(m, kind);
    this.snapshotCameras = new Set(options.snapshotCameras ?? []);
    this.labels = new CameraLabels(options.labels, options.cameraLabels);
    const labelsOf = (camera: string, region: string | null): readonly string[] => this.labels.of(camera, region);
    this.discovery = options.homeAssistant
      ? new HomeAssistantDiscovery(
          { topics: this.topics, publish, cameras: () => this.retained.cameras, streams: (camera) => this.retained.streams(camera), labelsOf, log: this.logger() },
          options.version !== undefined ? { version: options.version } : {},
          this.snapshotCameras,
        )
      : undefined;
    const snapshotTopics = (camera: string): string[] => (this.snapshotCameras.has(camera) ? [this.topics.snapshot(camera)] : []);
    this.retained = new RetainedState(
      { topics: this.topics, publish, extraTopics: (camera) => [...(this.discovery?.topicsOf(camera) ?? []), ...snapshotTopics(camera)], labelsOf, log: this.logger() },
      options.cameras,
      options.regions,
    );
    this.commandLog = new BurstLog((m) => this.logger().warn(m));
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  get spooled(): number {
    return this.outbox?.messages ?? 0;
  }

  async start(): Promise<void> {
    const o = this.options;
    const log = this.logger();
    const spool = await Spool.open(o.spool.dir, {
      maxBytes: o.spool.maxBytes ?? DEFAULT_MAX_BYTES,
      maxMessages: o.spool.maxMessages ?? DEFAULT_MAX_MESSAGES,
      onError: (e) => log.error(e.message),
    });
    if (spool.lock.tookOverFrom !== undefined) log.warn(`took over the spool lock of pid ${spool.lock.tookOverFrom}, which is no longer running`);
    if (spool.messages > 0) log.info(`${spool.messages} event(s) waiting in the spool ${o.spool.dir}`);
    this.outbox = new Outbox({
      spool,
      send: (topic, payload, done) => this.connection.publish(topic, payload, 1, false, done),
      canSend: () => this.connected && !this.closing,
      window: () => this.eventWindow(),
      topicOf: (record) => {
        // Events spooled by a release before regions have none: the whole camera.
        const { camera, region } = JSON.parse(record) as EventPayload;
        return this.topics.events(camera, region ?? null);
      },
      metrics: this.metrics,
      log,
    });
    try {
      await this.connection.open({
        onConnect: () => this.onConnect(),
        onClose: () => this.metrics.connected.set(0),
        onMessage: (topic, payload, retained) => {
          if (this.onCommandMessage(topic, payload, retained)) return;
          if (this.discovery?.onMessage(topic, payload)) return;
          this.retained.sweep(topic, payload, retained);
        },
      });
    } catch (e) {
      await this.outbox.close();
      throw e;
    }
  }

  async publishEvent(event: ActionEvent, onSent?: () => void): Promise<void> {
    const outbox = this.requireStarted();
    if (this.closing) throw new MstaError('MQTT_FAILED', `event ${event.id} arrived after the sink was closed`, { where: 'sink' });
    // The topic is checked before anything is spooled.
    this.topics.events(event.camera, event.region);
    return outbox.add(JSON.stringify(eventPayload(event)), onSent);
  }

  publishStatus(status: CameraStatus): void {
    this.retained.status(status);
  }

  publishState(state: ActionState): void {
    this.retained.state(state);
  }

  publishRecognition(camera: string, enabled: boolean): void {
    this.retained.recognition(camera, enabled);
  }

  setConsoleUrl(url: string): void {
    this.discovery?.setDeviceInfo({ ...(this.options.version !== undefined ? { version: this.options.version } : {}), configurationUrl: url });
  }

  publishSnapshot(camera: string, jpeg: Buffer): void {
    if (!this.snapshotCameras.has(camera)) return;
    const topic = this.topics.snapshot(camera);
    this.snapshots.set(camera, jpeg);
    if (this.connected && !this.closing) this.publish(topic, jpeg, 1, true, 'snapshot');
  }

  setSnapshotCameras(cameras: readonly string[]): void {
    const next = new Set(cameras);
    for (const camera of this.snapshotCameras) {
      if (next.has(camera)) continue;
      this.snapshots.delete(camera);
      // Cleared now if connected; otherwise the stale sweep on the next connect clears it.
      this.publishRetained({ topic: this.topics.snapshot(camera), payload: '' }, 'snapshot');
    }
    this.snapshotCameras = next;
    this.discovery?.setSnapshotCameras(next);
  }

  publishScores(scores: ClipTopScores): void {
    if (this.options.publishScores !== true) return;
    const topic = this.topics.scores(scores.clip.camera, scores.clip.region);
    // QoS 0 is best effort: rather skip than let a slow link grow the socket buffer.
    if (!this.connected || this.connection.backedUp) {
      this.metrics.scoresSkipped.inc();
      return;
    }
    this.publish(topic, JSON.stringify(scoresPayload(scores)), 0, false, 'scores');
  }

  publishInfo(info: BridgeInfo): void {
    this.info = info;
    this.publishRetained({ topic: this.topics.bridgeInfo, payload: JSON.stringify(bridgeInfoPayload(info)) }, 'status');
  }

  setCameras(cameras: readonly string[], regions?: CameraRegions): void {
    const removed = [...this.retained.cameras].filter((c) => !cameras.includes(c));
    const added = this.retained.setCameras(cameras, regions);
    for (const camera of removed) this.labels.forget(camera);
    for (const camera of added) this.discovery?.announce(camera);
  }

  updateLabels(labels: DiscoveryLabels, cameraLabels: Readonly<Record<string, DiscoveryLabels>> = {}): void {
    const streams = [...this.retained.cameras].flatMap((camera) => this.retained.streams(camera).map((region) => [camera, region] as const));
    for (const [camera, before] of this.labels.update(labels, cameraLabels, streams)) {
      this.retained.relabel(camera, before);
      this.discovery?.relabel(camera, before);
    }
  }

  whenConnected(timeoutMs: number): Promise<void> {
    return this.connection.whenConnected(timeoutMs);
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    const outbox = this.outbox;
    outbox?.stop();
    // Acknowledged events leave the spool now rather than being sent again after a restart.
    const acknowledged = await this.connection.close(deadline, async () => {
      await outbox?.flushed();
      await outbox?.inflightDrained();
    });
    if (acknowledged) this.metrics.published.inc({ kind: 'status' });
    this.metrics.connected.set(0);
    await outbox?.close();
  }

  private onConnect(): void {
    this.metrics.connected.set(1);
    this.publishRetained({ topic: this.topics.bridgeStatus, payload: 'online' }, 'status');
    if (this.info) this.publishInfo(this.info);
    this.discovery?.announceAll();
    this.retained.republish();
    for (const [camera, jpeg] of this.snapshots) if (this.retained.cameras.has(camera)) this.publish(this.topics.snapshot(camera), jpeg, 1, true, 'snapshot');
    const filters = [
      this.topics.recognitionSetFilter,
      ...this.retained.sweepFilters(),
      this.topics.retainedCameraFilter('snapshot'),
      ...(this.discovery?.filters() ?? []),
    ];
    this.connection.subscribe(filters, (err) =>
      this.logger().warn(`subscribe failed (${err.message}): commands, Home Assistant re-announce and stale topic cleanup are off until reconnect`),
    );
    this.outbox?.pump();
  }

  /** True when the message was on a command topic: handed on when valid, else counted and logged once per burst. */
  private onCommandMessage(topic: string, payload: Buffer, retained: boolean): boolean {
    const parsed = parseCommand(this.topics, topic, payload, retained, this.retained.cameras);
    if (!parsed) return false;
    this.metrics.commands.inc({ result: parsed.result });
    if (parsed.result !== 'accepted') {
      this.commandLog.report(`${parsed.result}/${parsed.camera}`, `command ignored: ${parsed.why}`);
      return true;
    }
    try {
      this.options.onCommand?.(parsed.command);
    } catch (e) {
      // The daemon's handler failing must not take the MQTT client down with it.
      this.logger().error(`command on ${topic} failed: ${(e as Error).message}`);
    }
    return true;
  }

  /** Events in flight at once: maxInflight, but leaving half of an MQTT 5 broker's Receive Maximum to the retained messages. */
  private eventWindow(): number {
    const r = this.connection.receiveMaximum;
    return r ? Math.max(1, Math.min(this.maxInflight, Math.floor(r / 2))) : this.maxInflight;
  }

  /** Retained messages are sent only while connected: the latest value is republished on connect. */
  private publishRetained(message: RetainedMessage, kind: PublishKind): void {
    if (!this.connected || this.closing) return;
    this.publish(message.topic, message.payload, 1, true, kind);
  }

  private publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean, kind: PublishKind): void {
    this.connection.publish(topic, payload, qos, retain, (err) => {
      if (err) this.logger().warn(`publish to ${topic} failed: ${err.message}`);
      else this.metrics.published.inc({ kind });
    });
  }

  private requireStarted(): Outbox {
    if (!this.outbox) throw new MstaError('MQTT_FAILED', 'the sink was not started', { where: 'sink' });
    return this.outbox;
  }

  private logger(): SinkLogger {
    const secrets = this.connection.secrets;
    const log = this.options.log;
    return {
      info: (m) => log.info(redactSecrets(m, secrets)),
      warn: (m) => log.warn(redactSecrets(m, secrets)),
      error: (m) => log.error(redactSecrets(m, secrets)),
    };
  }
}

export function createMqttSink(options: MqttSinkOptions): MqttSink {
  return new MqttSinkImpl(options);
}
