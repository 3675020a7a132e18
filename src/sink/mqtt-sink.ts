// The MQTT sink: MQTT API v1 (DESIGN.md, docs/mqtt.md) over mqtt.js.
//
// Events are written to the on-disk spool first and published from there (QoS 1); a record is
// deleted only after its PUBACK. So an event survives a broker outage, a dropped connection with
// messages in flight, and a daemon killed at any moment; duplicates (same event id) are possible
// only where QoS 1 allows them. Nothing else waits in memory while offline: retained statuses,
// states and discovery configs are kept as the latest value per camera and republished on every
// (re)connect, because a broker restarted without persistence forgets retained messages.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { ActionEvent, CameraStatus } from '../types.js';
import { connectionError } from './connection-error.js';
import { redactSecrets } from '../redact.js';
import { discoveryConfigs, discoveryTopics, type RetainedMessage } from './discovery.js';
import { sinkMetrics, type PublishKind, type SinkMetrics, type SpoolDropReason } from './metrics.js';
import {
  actionStatePayload,
  cameraStatusPayload,
  scoresPayload,
  type ActionState,
  type ClipTopScores,
} from './payloads.js';
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
  spool: { dir: string; maxBytes?: number; maxMessages?: number };
  /** Publish per-clip top-k on `<base>/<camera>/scores` (QoS 0). Default false. */
  publishScores?: boolean;
  /** Home Assistant MQTT discovery; absent = off. `labels` become the event entity's event_types. */
  homeAssistant?: { prefix?: string; labels: readonly string[] };
  registry: Registry;
  log: SinkLogger;
  keepaliveSeconds?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** Events published but not yet acknowledged, at most (and at most half the broker's MQTT 5 Receive Maximum). Default 16. */
  maxInflight?: number;
}

export interface MqttSink {
  /** Opens the spool (its backlog is sent first) and starts connecting; does not wait for the broker. */
  start(): Promise<void>;
  /** Resolves once the event is durably spooled; it is then sent (again after any outage) until acknowledged. */
  publishEvent(event: ActionEvent): Promise<void>;
  /** Retained `<base>/<camera>/status`; the latest per camera is republished on every reconnect. */
  publishStatus(status: CameraStatus): void;
  /** Retained `<base>/<camera>/state`; the latest per camera is republished on every reconnect. */
  publishState(state: ActionState): void;
  /** `<base>/<camera>/scores` at QoS 0 when enabled and connected; otherwise skipped. */
  publishScores(scores: ClipTopScores): void;
  /** Replaces the camera list: removed cameras' retained topics and discovery entities are cleared. */
  setCameras(cameras: readonly string[]): void;
  readonly connected: boolean;
  /** Events spooled and not yet acknowledged. */
  readonly spooled: number;
  /** Resolves when connected; rejects with the last connection error (secret-free) after timeoutMs. */
  whenConnected(timeoutMs: number): Promise<void>;
  /** Publishes `offline` (retained) and disconnects; forces the socket closed after timeoutMs. */
  close(timeoutMs?: number): Promise<void>;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_MESSAGES = 100_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A PUBACK with an error reason code (MQTT 5): the broker will not take this message, ever. */
function isRejection(e: Error): boolean {
  return typeof (e as Error & { code?: unknown }).code === 'number';
}

class MqttSinkImpl implements MqttSink {
  private readonly topics: SinkTopics;
  private readonly metrics: SinkMetrics;
  private readonly where: string;
  private readonly secrets: (string | undefined)[];
  private readonly json: IClientPublishOptions['properties'];
  private cameras: Set<string>;
  private readonly statuses = new Map<string, CameraStatus>();
  private readonly states = new Map<string, ActionState>();
  private client: MqttClient | undefined;
  private spool: Spool | undefined;
  /** Spool records handed to mqtt.js and not yet acknowledged; mqtt.js resends them after a reconnect. */
  private readonly inflight = new Set<number>();
  /** Highest spool seq handed to mqtt.js: every record after it is still to send. */
  private lastSent = -1;
  private pumping = false;
  private wasConnected = false;
  private spoolFull = false;
  /** The broker's MQTT 5 Receive Maximum (its limit on our unacknowledged QoS 1 messages). */
  private receiveMaximum: number | undefined;
  /** Called whenever an in-flight event is settled (close() waits for none to be left). */
  private inflightChanged: (() => void) | undefined;
  private closing = false;
  private lastError: MstaError | undefined;
  private lastLoggedError: string | undefined;
  private readonly maxInflight: number;

  constructor(private readonly options: MqttSinkOptions) {
    this.topics = sinkTopics(options.baseTopic, options.homeAssistant?.prefix);
    this.cameras = this.validCameras(options.cameras);
    this.metrics = sinkMetrics(options.registry);
    this.where = redactUrl(options.url);
    this.secrets = [options.password, URL.canParse(options.url) ? decodeURIComponent(new URL(options.url).password) : undefined];
    this.json = options.protocolVersion === 4 ? undefined : { contentType: 'application/json' };
    this.maxInflight = options.maxInflight ?? 16;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get spooled(): number {
    return this.spool?.messages ?? 0;
  }

  async start(): Promise<void> {
    const o = this.options;
    this.spool = await Spool.open(o.spool.dir, {
      maxBytes: o.spool.maxBytes ?? DEFAULT_MAX_BYTES,
      maxMessages: o.spool.maxMessages ?? DEFAULT_MAX_MESSAGES,
    });
    this.updateSpoolGauges();
    if (this.spool.messages > 0) this.log('info', `${this.spool.messages} event(s) waiting in the spool ${o.spool.dir}`);
    if (o.tls?.rejectUnauthorized === false) this.log('warn', 'TLS certificate verification is OFF (mqtt.tls.reject_unauthorized: false)');
    const clientOptions: IClientOptions = {
      protocolVersion: o.protocolVersion ?? 5,
      clientId: o.clientId ?? `msta-edge-${hostname()}-${this.topics.nodeId}`,
      clean: true,
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // A refused CONNACK (bad password, ACL) is often fixed on the broker side: keep trying.
      reconnectOnConnackError: true,
      // Memory stays bounded: QoS 0 is never queued, QoS 1 is published only while connected.
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: this.topics.bridgeStatus, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(await this.tlsOptions()),
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    client.on('connect', (connack) => {
      this.receiveMaximum = connack.properties?.receiveMaximum;
      this.onConnect();
    });
    client.on('close', () => this.onClose());
    client.on('error', (e) => this.onError(e));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
  }

  async publishEvent(event: ActionEvent): Promise<void> {
    const spool = this.requireStarted();
    if (this.closing) throw new MstaError('MQTT_FAILED', `event ${event.id} arrived after the sink was closed`, { where: 'sink' });
    const topic = this.topics.events(event.camera);
    const payload = JSON.stringify(event);
    try {
      const { dropped } = await spool.append(payload);
      if (dropped.length > 0) {
        this.metrics.spoolDropped.inc({ reason: 'full' }, dropped.length);
        // Once per filling-up, not per event: the counter has the running total.
        if (!this.spoolFull) this.log('warn', `spool full: dropping the oldest events to keep new ones (msta_mqtt_spool_dropped_total)`);
        this.spoolFull = true;
      }
    } catch (e) {
      // A broken disk must not silence a connected daemon: publish without the spool's guarantee.
      if (!this.connected) throw e;
      this.log('error', `${(e as Error).message}; event ${event.id} published without spooling`);
      this.publish(topic, payload, 1, false, 'event');
      return;
    }
    this.updateSpoolGauges();
    this.pump();
  }

  publishStatus(status: CameraStatus): void {
    const topic = this.topics.cameraStatus(status.camera);
    this.statuses.set(status.camera, status);
    this.publishRetained({ topic, payload: JSON.stringify(cameraStatusPayload(status)) }, 'status');
  }

  publishState(state: ActionState): void {
    const topic = this.topics.state(state.camera);
    this.states.set(state.camera, state);
    this.publishRetained({ topic, payload: JSON.stringify(actionStatePayload(state)) }, 'state');
  }

  publishScores(scores: ClipTopScores): void {
    if (this.options.publishScores !== true) return;
    const topic = this.topics.scores(scores.clip.camera);
    // QoS 0 is best effort: rather skip than let a slow link grow the socket buffer.
    if (!this.connected || this.client?.stream.writableNeedDrain === true) {
      this.metrics.scoresSkipped.inc();
      return;
    }
    this.publish(topic, JSON.stringify(scoresPayload(scores)), 0, false, 'scores');
  }

  setCameras(cameras: readonly string[]): void {
    const next = this.validCameras(cameras);
    const removed = [...this.cameras].filter((c) => !next.has(c));
    const added = [...next].filter((c) => !this.cameras.has(c));
    this.cameras = next;
    for (const camera of removed) {
      this.statuses.delete(camera);
      this.states.delete(camera);
      // If offline now, the stale-retained sweep on the next connect clears them.
      for (const topic of this.ownedTopics(camera)) this.publishRetained({ topic, payload: '' }, this.kindOf(topic));
    }
    if (this.options.homeAssistant) for (const camera of added) this.announce(camera);
  }

  whenConnected(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new MstaError('MQTT_FAILED', 'the sink was not started', { where: 'sink' }));
    if (client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.removeListener('connect', onConnect);
        reject(this.lastError ?? new MstaError('MQTT_FAILED', `MQTT broker: not connected after ${timeoutMs} ms`, { where: this.where }));
      }, timeoutMs);
      client.once('connect', onConnect);
    });
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    const left = (): number => deadline - Date.now();
    const client = this.client;
    if (this.spool) await withTimeout(this.spool.flushed(), left());
    let acknowledged = false;
    if (client?.connected) {
      // Acknowledged events leave the spool now rather than being sent again after a restart.
      await withTimeout(this.inflightDrained(), left());
      const offline = client.publishAsync(this.topics.bridgeStatus, 'offline', { qos: 1, retain: true });
      acknowledged = (await withTimeout(offline.then(() => 'ok' as const, () => 'failed' as const), left())) === 'ok';
      if (acknowledged) this.metrics.published.inc({ kind: 'status' });
    }
    if (client) {
      // A broker that acknowledged `offline` gets a clean DISCONNECT; an unresponsive one, or none,
      // just a closed socket (mqtt.js ignores a second end(), so the socket is destroyed directly).
      const ending = client.endAsync(!acknowledged);
      if ((await withTimeout(ending, left())) === 'timeout') {
        client.stream.destroy();
        await withTimeout(ending, 1000);
      }
    }
    this.metrics.connected.set(0);
  }

  private onConnect(): void {
    this.metrics.connected.set(1);
    this.wasConnected = true;
    this.lastError = undefined;
    this.lastLoggedError = undefined;
    this.log('info', `connected to ${this.where} (MQTT ${this.options.protocolVersion === 4 ? '3.1.1' : '5'})`);
    this.publishRetained({ topic: this.topics.bridgeStatus, payload: 'online' }, 'status');
    if (this.options.homeAssistant) for (const camera of this.cameras) this.announce(camera);
    for (const status of this.statuses.values()) this.publishStatus(status);
    for (const state of this.states.values()) this.publishState(state);
    this.subscribeSweeps();
    this.pump();
  }

  private onClose(): void {
    this.metrics.connected.set(0);
    if (this.wasConnected && !this.closing) this.log('warn', `connection to ${this.where} lost; events go to the spool until it is back`);
    this.wasConnected = false;
  }

  private async tlsOptions(): Promise<Partial<IClientOptions>> {
    const tls = this.options.tls;
    if (!tls) return {};
    const read = async (key: 'ca' | 'cert' | 'key'): Promise<Partial<IClientOptions>> => {
      const path = tls[key];
      if (path === undefined) return {};
      try {
        return { [key]: await readFile(path) };
      } catch (e) {
        throw new MstaError('MQTT_FAILED', `cannot read the TLS ${key} file ${path}: ${(e as Error).message}`, { where: `mqtt.tls.${key}` });
      }
    };
    return { ...(await read('ca')), ...(await read('cert')), ...(await read('key')), rejectUnauthorized: tls.rejectUnauthorized ?? true };
  }

  private onError(e: Error): void {
    const err = connectionError(e, this.where, this.secrets);
    this.lastError = err;
    // mqtt.js retries every reconnect period: log each distinct failure once, not every retry.
    if (err.message !== this.lastLoggedError) {
      this.lastLoggedError = err.message;
      this.log('error', `${err.message}; retrying, events go to the spool meanwhile`);
    }
  }

  /** Subscriptions that let the sink react to Home Assistant and sweep stale retained topics. */
  private subscribeSweeps(): void {
    const client = this.client;
    if (!client) return;
    const filters = [this.topics.retainedCameraFilter('status'), this.topics.retainedCameraFilter('state')];
    if (this.options.homeAssistant) {
      filters.push(this.topics.homeAssistantStatus, this.topics.discoveryConfigFilter('event'), this.topics.discoveryConfigFilter('sensor'));
    }
    // No Local (MQTT 5) spares us the echo of our own publishes.
    const nl = this.options.protocolVersion !== 4;
    client.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const, nl }])), (err) => {
      if (err) this.log('warn', `subscribe failed (${err.message}): Home Assistant re-announce and stale topic cleanup are off until reconnect`);
    });
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === this.topics.homeAssistantStatus) {
      if (payload.toString() === 'online' && this.options.homeAssistant) {
        this.log('info', 'Home Assistant came online: re-announcing discovery configs');
        for (const camera of this.cameras) this.announce(camera);
      }
      return;
    }
    // A retained message on one of our topics that no configured camera owns is left over from a
    // removed camera (or a previous config): clear it.
    if (!retained || payload.length === 0 || this.isOwned(topic)) return;
    this.log('info', `clearing stale retained topic ${topic}`);
    this.publishRetained({ topic, payload: '' }, this.kindOf(topic));
  }

  private isOwned(topic: string): boolean {
    for (const camera of this.cameras) if (this.ownedTopics(camera).includes(topic)) return true;
    return false;
  }

  private ownedTopics(camera: string): string[] {
    const own = [this.topics.cameraStatus(camera), this.topics.state(camera)];
    return this.options.homeAssistant ? [...own, ...discoveryTopics(this.topics, camera)] : own;
  }

  private kindOf(topic: string): PublishKind {
    if (topic.endsWith('/config')) return 'discovery';
    return topic.endsWith('/state') ? 'state' : 'status';
  }

  private announce(camera: string): void {
    for (const message of discoveryConfigs(this.topics, camera, this.options.homeAssistant?.labels ?? [])) {
      this.publishRetained(message, 'discovery');
    }
  }

  /** Retained messages are sent only while connected: the latest value is republished on connect. */
  private publishRetained(message: RetainedMessage, kind: PublishKind): void {
    if (!this.connected || this.closing) return;
    this.publish(message.topic, message.payload, 1, true, kind);
  }

  private publish(topic: string, payload: string, qos: 0 | 1, retain: boolean, kind: PublishKind): void {
    const json = payload.startsWith('{');
    this.client?.publish(topic, payload, { qos, retain, ...(json && this.json ? { properties: this.json } : {}) }, (err) => {
      if (err) this.log('warn', `publish to ${topic} failed: ${err.message}`);
      else this.metrics.published.inc({ kind });
    });
  }

  /** Sends spooled events in order while connected, at most maxInflight unacknowledged. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.pumpLoop()
      .catch((e: unknown) => this.log('error', `spool delivery stopped: ${(e as Error).message}`))
      .finally(() => {
        this.pumping = false;
      });
  }

  private async pumpLoop(): Promise<void> {
    const spool = this.requireStarted();
    for (;;) {
      if (!this.connected || this.closing || this.inflight.size >= this.eventWindow()) return;
      const seq = this.nextToSend(spool);
      if (seq === undefined) return;
      // A read that throws leaves lastSent alone: the record is tried again on the next pump.
      const record = await spool.read(seq);
      this.lastSent = seq;
      if (record === undefined) continue;
      let topic: string;
      try {
        topic = this.topics.events((JSON.parse(record) as ActionEvent).camera);
      } catch (e) {
        await this.drop(spool, seq, 'unreadable', `spooled record ${seq} is unusable (${(e as Error).message})`);
        continue;
      }
      this.inflight.add(seq);
      this.client?.publish(topic, record, { qos: 1, ...(this.json ? { properties: this.json } : {}) }, (err) => {
        void this.onEventAck(spool, seq, err).catch((e: unknown) => this.log('error', (e as Error).message));
      });
    }
  }

  /** Events in flight at once: maxInflight, but leaving half of an MQTT 5 broker's Receive Maximum to the retained messages. */
  private eventWindow(): number {
    const r = this.receiveMaximum;
    return r ? Math.max(1, Math.min(this.maxInflight, Math.floor(r / 2))) : this.maxInflight;
  }

  private nextToSend(spool: Spool): number | undefined {
    // Records at or before lastSent are the in-flight ones (acked ones are gone), so this scan is short.
    for (const seq of spool.seqs()) if (seq > this.lastSent) return seq;
    return undefined;
  }

  private async onEventAck(spool: Spool, seq: number, err: Error | undefined): Promise<void> {
    this.inflight.delete(seq);
    if (!err) {
      this.spoolFull = false;
      // remove() forgets the record at once; gauges and counter then agree before the unlink ends.
      const removed = spool.remove(seq);
      this.updateSpoolGauges();
      this.metrics.published.inc({ kind: 'event' });
      await removed;
    } else if (isRejection(err)) {
      await this.drop(spool, seq, 'rejected', `the broker rejected spooled event ${seq}: ${err.message}`);
    } else if (!this.closing) {
      // Not delivered and not refused: send it again from the spool, in order.
      this.lastSent = Math.min(this.lastSent, seq - 1);
    }
    this.updateSpoolGauges();
    this.inflightChanged?.();
    this.pump();
  }

  private inflightDrained(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.inflight.size > 0) return;
        this.inflightChanged = undefined;
        resolve();
      };
      this.inflightChanged = check;
      check();
    });
  }

  private async drop(spool: Spool, seq: number, reason: SpoolDropReason, message: string): Promise<void> {
    const removed = spool.remove(seq);
    this.updateSpoolGauges();
    this.metrics.spoolDropped.inc({ reason });
    this.log('error', `${message}; dropped`);
    await removed;
  }

  private updateSpoolGauges(): void {
    this.metrics.spoolMessages.set(this.spool?.messages ?? 0);
    this.metrics.spoolBytes.set(this.spool?.bytes ?? 0);
  }

  private validCameras(cameras: readonly string[]): Set<string> {
    for (const camera of cameras) this.topics.cameraStatus(camera);
    return new Set(cameras);
  }

  private requireStarted(): Spool {
    if (!this.spool) throw new MstaError('MQTT_FAILED', 'the sink was not started', { where: 'sink' });
    return this.spool;
  }

  private log(level: keyof SinkLogger, message: string): void {
    this.options.log[level](redactSecrets(message, this.secrets));
  }
}

export function createMqttSink(options: MqttSinkOptions): MqttSink {
  return new MqttSinkImpl(options);
}
